// Who may do what (DESIGN §7). Services call requirePermission FIRST, before
// any business rule; routes only authenticate. The role table itself (roles in
// order, the minimum role per permission, what protection raises) is
// @qubot/client's roles.ts, which the web app and the CLI read too; this module
// adds token scopes, the two-person rule and the 401/403 errors
// (docs/security.md mirrors it).
import { minimumRole as minimumRoleFor, type Permission, roleAtLeast } from '@qubot/client/roles';
import { AppError, ErrorCode } from './app-error.ts';
import type { Actor, RequestContext, RoleName } from './request-context.ts';

export type { Permission } from '@qubot/client/roles';
export { MIN_ROLE, ROLES, roleAtLeast, roleRank } from '@qubot/client/roles';
export type { Actor, RoleName } from './request-context.ts';

export interface PermissionScope {
  /** Application name the action touches: application-scoped tokens are checked against it. */
  application?: string | undefined;
  /** The environment the action touches; `protected` raises the role needed. */
  environment?: { name?: string | undefined; protected: boolean } | undefined;
}

/**
 * Not tied to one application, so an application-scoped token may never use
 * them; and tokens (machines) may not manage people or mint other tokens.
 */
const GLOBAL: ReadonlySet<Permission> = new Set([
  'users.manage',
  'tokens.manage',
  'backups.manage',
  'settings.manage',
  'audit.read',
  'freeze.override',
]);
const USERS_ONLY: ReadonlySet<Permission> = new Set(['users.manage', 'tokens.manage', 'approve']);

const PHRASE: Record<Permission, string> = {
  read: 'read',
  'release.create': 'register releases',
  deploy: 'deploy',
  'deploy.protected': 'deploy',
  'deployment.control': 'control deployments',
  promote: 'promote',
  traffic: 'switch traffic',
  rollback: 'roll back',
  approve: 'approve deployments',
  'config.write': 'change the configuration',
  'logs.read': 'read instance logs',
  'environment.scale': 'scale environments',
  'freeze.manage': 'manage freeze windows',
  'freeze.override': 'override a freeze window',
  'settings.manage': 'change settings',
  'users.manage': 'manage users',
  'tokens.manage': 'manage API tokens',
  'backups.manage': 'manage backups',
  'webhooks.manage': 'manage webhooks',
  'audit.read': 'read the audit trail',
};

/** The role a permission needs in a scope (the environment's protection raises it). */
export function minimumRole(permission: Permission, scope?: PermissionScope): RoleName {
  return minimumRoleFor(permission, scope?.environment?.protected ?? false);
}

type Denial = { status: 401 | 403; message: string } | null;

function check(actor: Actor | null | undefined, permission: Permission, scope?: PermissionScope): Denial {
  if (!actor || actor.kind === 'anonymous') return { status: 401, message: 'sign in first' };
  if (actor.kind === 'system') return null;
  const min = minimumRole(permission, scope);
  if (!roleAtLeast(actor.role, min)) {
    const env = scope?.environment;
    const where = env
      ? ` ${permission === 'deploy' || permission === 'deploy.protected' || permission === 'promote' ? 'to' : 'in'} ${env.protected ? 'protected ' : ''}environment${env.name ? ` ${env.name}` : ''}`
      : '';
    return { status: 403, message: `forbidden: needs ${min} to ${PHRASE[permission]}${where}` };
  }
  if (actor.kind === 'token') {
    if (USERS_ONLY.has(permission))
      return {
        status: 403,
        message: `forbidden: API tokens cannot ${PHRASE[permission]}; sign in as a user`,
      };
    const apps = actor.applications ?? [];
    if (apps.length > 0) {
      if (GLOBAL.has(permission))
        return {
          status: 403,
          message: `forbidden: a token limited to ${apps.join(', ')} cannot ${PHRASE[permission]}`,
        };
      if (scope?.application && !apps.includes(scope.application))
        return {
          status: 403,
          message: `forbidden: this token is limited to ${apps.join(', ')}, not ${scope.application}`,
        };
    }
  }
  return null;
}

/** Whether the actor may do `permission` in `scope`. Pure; no I/O. */
export function can(
  actor: Actor | null | undefined,
  permission: Permission,
  scope?: PermissionScope,
): boolean {
  return check(actor, permission, scope) === null;
}

/**
 * Throws AppError 401 (no caller) or 403 with a message naming the role needed,
 * e.g. "forbidden: needs release-manager to deploy to protected environment production".
 */
export function requirePermission(
  ctx: Pick<RequestContext, 'actor'>,
  permission: Permission,
  scope?: PermissionScope,
): void {
  const denial = check(ctx.actor, permission, scope);
  if (!denial) return;
  if (denial.status === 401) throw new AppError(ErrorCode.Unauthenticated, denial.message);
  throw new AppError(ErrorCode.Forbidden, denial.message, {
    permission,
    required: minimumRole(permission, scope),
  });
}

/** Whether an (application-scoped) actor may see anything of this application. */
export function canReadApplication(actor: Actor | null | undefined, application: string): boolean {
  return can(actor, 'read', { application });
}

/**
 * Two-person rule: a deployment waiting for approval needs a release-manager
 * (or admin) who is a person and is not the one who asked for it.
 */
export function assertCanApprove(
  ctx: Pick<RequestContext, 'actor'>,
  deployment: {
    actor: string;
    /** The person who started it (a token's creator); null for deployments from before it was kept. */
    actorUserId?: string | null;
    environmentProtected: boolean;
    application?: string | undefined;
  },
): void {
  requirePermission(ctx, 'approve', {
    application: deployment.application,
    environment: { protected: deployment.environmentProtected },
  });
  // The rule is about people: a token acts for the user who created it, so an admin who deploys
  // with their own token cannot approve as themselves (nor the other way round).
  const samePerson = !!ctx.actor.personId && ctx.actor.personId === deployment.actorUserId;
  if (samePerson || ctx.actor.name === deployment.actor)
    throw new AppError(
      ErrorCode.Forbidden,
      'forbidden: you started this deployment; a second person must approve it',
      { permission: 'approve', reason: 'self_approval' },
    );
}

/** Wire role names ↔ the database enum (which cannot hold a dash). */
export const roleToDb = (role: RoleName) =>
  (role === 'release-manager' ? 'release_manager' : role) as
    | 'viewer'
    | 'deployer'
    | 'release_manager'
    | 'admin';
export const roleFromDb = (role: string): RoleName =>
  role === 'release_manager' ? 'release-manager' : (role as RoleName);
