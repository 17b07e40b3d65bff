// What the signed-in user may do, so the screens can disable what the server would refuse. The
// role table is @qubot/client's (the one the server enforces, docs/security.md): the server
// decides; this only spares people a button that can only answer 403.
import { minimumRole, type Permission, raisedWhenProtected, roleCan } from '@qubot/client';

export { isFreezeRefusal } from '@qubot/client';

/** The rights the dashboard's controls depend on. */
export type UiPermission = Extract<
  Permission,
  | 'deploy'
  | 'deployment.control'
  | 'promote'
  | 'traffic'
  | 'rollback'
  | 'approve'
  | 'freeze.manage'
  | 'freeze.override'
  | 'environment.scale'
  | 'logs.read'
>;

/** Unknown or missing roles (signed out, still loading) may do nothing. */
export const can = (
  role: string | null | undefined,
  permission: UiPermission,
  isProtected = false,
): boolean => roleCan(role, permission, isProtected);

/** A hint for a disabled control: "Needs release-manager (you are viewer)." */
export function deniedHint(
  role: string | null | undefined,
  permission: UiPermission,
  isProtected = false,
): string {
  const min = minimumRole(permission, isProtected);
  return `Needs ${min}${isProtected && raisedWhenProtected(permission) ? ' in a protected environment' : ''}${role ? ` (you are ${role})` : ''}.`;
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
