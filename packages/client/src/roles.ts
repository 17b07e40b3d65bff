// Who may do what (DESIGN §7): the one table of roles and rights. The server enforces it
// (apps/api/src/lib/permissions.ts adds token scopes and the two-person rule on top); the web
// app and the CLI read it to disable or explain what the server would refuse.
import type { RoleName } from '@qubot/api-contract';

export type { RoleName };

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
  /** Create, change and delete an application's webhooks, read their delivery log, redeliver. */
  | 'webhooks.manage'
  | 'audit.read';

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
  'webhooks.manage': 'release-manager',
  'audit.read': 'release-manager',
};

/** Permissions that raise to release-manager on a protected environment. */
export const PROTECTED_MIN: Partial<Record<Permission, RoleName>> = {
  deploy: 'release-manager',
  'deployment.control': 'release-manager',
  'config.write': 'release-manager',
  'logs.read': 'release-manager',
};

/** Position in ROLES; -1 for anything else (signed out, still loading, unknown). */
export function roleRank(role: string | null | undefined): number {
  return ROLES.indexOf(role as RoleName);
}

export function roleAtLeast(role: string | null | undefined, min: RoleName): boolean {
  const rank = roleRank(role);
  return rank >= 0 && rank >= roleRank(min);
}

/** Whether the environment's protection raises what `permission` needs. */
export function raisedWhenProtected(permission: Permission): boolean {
  const raised = PROTECTED_MIN[permission];
  return raised !== undefined && roleRank(raised) > roleRank(MIN_ROLE[permission]);
}

/** The role a permission needs (an environment's protection raises it). */
export function minimumRole(permission: Permission, isProtected = false): RoleName {
  return isProtected && raisedWhenProtected(permission)
    ? (PROTECTED_MIN[permission] as RoleName)
    : MIN_ROLE[permission];
}

/** What the role alone allows; the server also checks token scopes and the two-person rule. */
export function roleCan(
  role: string | null | undefined,
  permission: Permission,
  isProtected = false,
): boolean {
  return roleAtLeast(role, minimumRole(permission, isProtected));
}
