// What the signed-in user may do, so the screens can disable what the server would refuse.
// A mirror of apps/api/src/lib/permissions.ts (docs/security.md): the server decides; this only
// spares people a button that can only answer 403.

export const ROLE_ORDER = ['viewer', 'deployer', 'release-manager', 'admin'] as const;
export type Role = (typeof ROLE_ORDER)[number];

export type UiPermission =
  | 'deploy'
  | 'deployment.control'
  | 'promote'
  | 'traffic'
  | 'rollback'
  | 'approve'
  | 'freeze.manage'
  | 'freeze.override';

const MIN_ROLE: Record<UiPermission, Role> = {
  deploy: 'deployer',
  'deployment.control': 'deployer',
  promote: 'release-manager',
  traffic: 'release-manager',
  rollback: 'release-manager',
  approve: 'release-manager',
  'freeze.manage': 'release-manager',
  'freeze.override': 'admin',
};
/** Raised to release-manager on a protected environment. */
const RAISED_WHEN_PROTECTED: ReadonlySet<UiPermission> = new Set(['deploy', 'deployment.control']);

export function rank(role: string | null | undefined): number {
  return ROLE_ORDER.indexOf(role as Role);
}

export function minimumRole(permission: UiPermission, isProtected = false): Role {
  return isProtected && RAISED_WHEN_PROTECTED.has(permission) ? 'release-manager' : MIN_ROLE[permission];
}

/** Unknown or missing roles (signed out, still loading) may do nothing. */
export function can(role: string | null | undefined, permission: UiPermission, isProtected = false): boolean {
  const r = rank(role);
  return r >= 0 && r >= rank(minimumRole(permission, isProtected));
}

/** A hint for a disabled control: "Needs release-manager (you are viewer)." */
export function deniedHint(
  role: string | null | undefined,
  permission: UiPermission,
  isProtected = false,
): string {
  const min = minimumRole(permission, isProtected);
  return `Needs ${min}${isProtected && RAISED_WHEN_PROTECTED.has(permission) ? ' in a protected environment' : ''}${role ? ` (you are ${role})` : ''}.`;
}

export type ApprovalView =
  /** This user may approve now. */
  | { kind: 'can-approve' }
  /** This user asked for the deployment: someone else must approve it. */
  | { kind: 'own-request'; message: string }
  /** Role too low (or a token): a release-manager or admin must approve. */
  | { kind: 'needs-role'; message: string }
  | { kind: 'not-waiting' };

/** The two-person rule as the deployment page shows it (the server enforces it). */
export function approvalView(
  me: { username: string; role?: string | null | undefined } | null | undefined,
  deployment: { status: string; waitingFor: string | null; actor: string },
): ApprovalView {
  if (deployment.status !== 'paused' || deployment.waitingFor !== 'approval') return { kind: 'not-waiting' };
  if (me && me.username === deployment.actor)
    return {
      kind: 'own-request',
      message: `You started this deployment: a second person (release-manager or admin) must approve it.`,
    };
  if (!me || !can(me.role, 'approve'))
    return {
      kind: 'needs-role',
      message: `Waiting for a release-manager or admin other than ${deployment.actor} to approve.`,
    };
  return { kind: 'can-approve' };
}

/** The server refused because a freeze window is active (409 environment_frozen). */
export function isFreezeRefusal(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const e = error as { status?: unknown; code?: unknown };
  return e.status === 409 && e.code === 'environment_frozen';
}
