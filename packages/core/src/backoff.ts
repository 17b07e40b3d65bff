/** How a retry loop backs off: `baseMs · 2^attempt`, never more than `maxMs`. */
export interface BackoffPolicy {
  baseMs: number;
  maxMs: number;
}

/**
 * Delay before retry number `attempt` (0-based). With `random` (0..1) the delay is spread over
 * [ceiling/2, ceiling], so many clients cut off together do not all come back at once; without
 * it the delay is the ceiling itself. Pure: the caller passes the randomness in.
 */
export function backoffDelay(attempt: number, policy: BackoffPolicy, random?: number): number {
  const ceiling = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.max(0, attempt));
  if (random === undefined) return ceiling;
  return Math.round(ceiling / 2 + (ceiling / 2) * Math.min(1, Math.max(0, random)));
}
