import { AUDIT_ACTIONS as ACTIONS, AUDIT_ACTION_PREFIXES } from '@qubot/api-contract';

/**
 * The action filter's choices, from the contract's list of the actions the server writes (a test
 * in the API checks the server writes exactly those): each group's prefix ("Any deployment
 * action", matched by the API as a prefix) before its actions.
 */
export const AUDIT_ACTIONS: readonly { value: string; label: string }[] = (() => {
  const options: { value: string; label: string }[] = [];
  const seen = new Set<string>();
  for (const [value, meaning] of Object.entries(ACTIONS)) {
    const prefix = Object.keys(AUDIT_ACTION_PREFIXES).find((p) => value.startsWith(p));
    if (prefix && !seen.has(prefix)) {
      seen.add(prefix);
      options.push({
        value: prefix,
        label: AUDIT_ACTION_PREFIXES[prefix as keyof typeof AUDIT_ACTION_PREFIXES],
      });
    }
    options.push({ value, label: `${value} — ${meaning}` });
  }
  return options;
})();

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
