/**
 * The actions the server writes to the audit trail (grep `action:` in apps/api/src/services), for
 * the action filter; the "…" entries are prefixes the API matches as such.
 */
export const AUDIT_ACTIONS: readonly { value: string; label: string }[] = [
  { value: 'deployment.', label: 'Any deployment action' },
  { value: 'deployment.create', label: 'deployment.create — deploy' },
  { value: 'environment.promote', label: 'environment.promote — promote' },
  { value: 'environment.rollback', label: 'environment.rollback — roll back' },
  { value: 'environment.traffic', label: 'environment.traffic — switch traffic' },
  {
    value: 'environment.traffic.reverted',
    label: 'environment.traffic.reverted — the router refused a switch',
  },
  { value: 'promotion.override', label: 'promotion.override — past the promotion order' },
  { value: 'deployment.approve', label: 'deployment.approve' },
  { value: 'deployment.advance', label: 'deployment.advance' },
  { value: 'deployment.pause', label: 'deployment.pause' },
  { value: 'deployment.resume', label: 'deployment.resume' },
  { value: 'deployment.abort', label: 'deployment.abort' },
  { value: 'deployment.redeploy', label: 'deployment.redeploy — redeploy' },
  { value: 'environment.settings', label: 'environment.settings' },
  { value: 'environment.synthetic_load', label: 'environment.synthetic_load — demo load on/off' },
  { value: 'config.update', label: 'config.update' },
  { value: 'freeze.', label: 'Any freeze window action' },
  { value: 'freeze.create', label: 'freeze.create' },
  { value: 'freeze.delete', label: 'freeze.delete' },
  { value: 'freeze.override', label: 'freeze.override' },
  { value: 'release.create', label: 'release.create' },
  { value: 'application.create', label: 'application.create' },
  { value: 'user.', label: 'Any user action' },
  { value: 'token.', label: 'Any token action' },
  { value: 'auth.', label: 'Any sign-in action' },
  { value: 'auth.login', label: 'auth.login — sign-in' },
  { value: 'auth.login.failed', label: 'auth.login.failed' },
  { value: 'auth.lockout', label: 'auth.lockout' },
];

/**
 * A date field (`2026-11-30`, the user's local day) as the API's date-time bound: `from` is the
 * start of that day, `to` the start of the next one, so both days are included.
 */
export function dayBound(day: string | undefined, edge: 'from' | 'to'): string | undefined {
  if (!day) return undefined;
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day);
  if (!m) return undefined;
  const date = new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]) + (edge === 'to' ? 1 : 0));
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}
