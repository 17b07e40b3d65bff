// Who may do what (DESIGN §7). Services call requirePermission FIRST, before
// any business rule; routes only authenticate. Keep this table the one place
// where a role's rights are written down (docs/security.md mirrors it).
import { AppError, ErrorCode } from './app-error.ts';
import type { Actor, RequestContext, RoleName } from './request-context.ts';

export type { Actor, RoleName } from './request-context.ts';

/** Lowest to highest; each role has every right of the roles before it. */
export const ROLES = [
  'viewer',
  'deployer',
  'release-manager',
  'admin',
] as const satisfies readonly RoleName[];

export type Permission =
  | 'read'
  | 'release.create'
  /** Start a deployment. On a protected environment this needs release-manager (same as deploy.protected). */
  | 'deploy'
  | 'deploy.protected'
  /** Pause/resume/abort/advance a deployment; on a protected environment: release-manager. */
  | 'deployment.control'
  | 'promote'
  | 'traffic'
  | 'rollback'
  | 'approve'
  /** Change an environment's configuration; on a protected environment: release-manager. */
  | 'config.write'
  /** Read an instance's stdout/stderr (may hold sensitive output); on a protected environment: release-manager. */
  | 'logs.read'
  /** Change an environment's replica count (its protection and approval: settings.manage). */
  | 'environment.scale'
  | 'freeze.manage'
  | 'freeze.override'
  | 'settings.manage'
  | 'users.manage'
  | 'tokens.manage'
  | 'backups.manage'
  | 'audit.read';

export interface PermissionScope {
  /** Application name the action touches: application-scoped tokens are checked against it. */
  application?: string | undefined;
  /** The environment the action touches; `protected` raises the role needed. */
  environment?: { name?: string | undefined; protected: boolean } | undefined;
}

/** Minimum role for each permission on an unprotected environment. */
export const MIN_ROLE: Record<Permission, RoleName> = {
  read: 'viewer',
  'release.create': 'deployer',
  deploy: 'deployer',
  'deploy.protected': 'release-manager',
  'deployment.control': 'deployer',
  promote: 'release-manager',
  traffic: 'release-manager',
  rollback: 'release-manager',
  approve: 'release-manager',
  'config.write': 'deployer',
  'logs.read': 'deployer',
  'environment.scale': 'release-manager',
  'freeze.manage': 'release-manager',
  'freeze.override': 'admin',
  'settings.manage': 'admin',
  'users.manage': 'admin',
  'tokens.manage': 'admin',
  'backups.manage': 'admin',
  'audit.read': 'release-manager',
};

/** Permissions that raise to release-manager on a protected environment. */
const PROTECTED_MIN: Partial<Record<Permission, RoleName>> = {
  deploy: 'release-manager',
  'deployment.control': 'release-manager',
  'config.write': 'release-manager',
  'logs.read': 'release-manager',
};

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
  'audit.read': 'read the audit trail',
};

export function roleRank(role: RoleName): number {
  return ROLES.indexOf(role);
}

export function roleAtLeast(role: RoleName, min: RoleName): boolean {
  return roleRank(role) >= roleRank(min);
}

/** The role a permission needs in a scope (the environment's protection raises it). */
export function minimumRole(permission: Permission, scope?: PermissionScope): RoleName {
  const base = MIN_ROLE[permission];
  if (scope?.environment?.protected) {
    const raised = PROTECTED_MIN[permission];
    if (raised && roleRank(raised) > roleRank(base)) return raised;
  }
  return base;
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
