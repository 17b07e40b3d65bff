import type { MetricsSample, PoolSample } from '@qubot/api-contract';
import type { PoolWindowStats } from '@qubot/runtime';

/** Each pool's running totals at the previous sample: the next interval is the difference. */
export type PoolTotals = ReadonlyMap<string, { requests: number; errors: number }>;

/**
 * One interval's figures from the router's per-pool stats. Counts come from the difference of the
 * totals (exact, whatever the timer's jitter); a pool seen for the first time, or whose totals went
 * back (router restart, stats reset), counts what its window saw. The p95 is the window's.
 */
export function toSample(
  previous: PoolTotals | undefined,
  pools: readonly PoolWindowStats[],
  at: number,
  intervalMs: number,
): { sample: MetricsSample; totals: PoolTotals } {
  const totals = new Map<string, { requests: number; errors: number }>();
  const out: PoolSample[] = pools.map((p) => {
    totals.set(p.pool, { requests: p.totals.requests, errors: p.totals.errors });
    const before = previous?.get(p.pool);
    const fromTotals =
      before && p.totals.requests >= before.requests && p.totals.errors >= before.errors
        ? { requests: p.totals.requests - before.requests, errors: p.totals.errors - before.errors }
        : null;
    return {
      pool: p.pool,
      version: p.version,
      requests: fromTotals?.requests ?? p.requests,
      errors: fromTotals?.errors ?? p.errors,
      p95Ms: p.p95,
      inFlight: p.inFlight,
    };
  });
  return { sample: { at: new Date(at).toISOString(), intervalMs, pools: out }, totals };
}

/** Recent samples per environment, bounded (oldest dropped first). */
export function createMetricsHistory(capacity: number) {
  const byEnv = new Map<string, MetricsSample[]>();
  return {
    add(environmentId: string, sample: MetricsSample): void {
      let list = byEnv.get(environmentId);
      if (!list) {
        list = [];
        byEnv.set(environmentId, list);
      }
      // Notifications can arrive out of order across a reconnect; keep the list sorted.
      if (list.length > 0 && (list.at(-1) as MetricsSample).at > sample.at) {
        if (list.some((s) => s.at === sample.at)) return;
        list.push(sample);
        list.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
      } else if (list.at(-1)?.at !== sample.at) {
        list.push(sample);
      }
      if (list.length > capacity) list.splice(0, list.length - capacity);
    },
    /** Samples of the environment taken after `sinceMs` (epoch ms), oldest first. */
    since(environmentId: string, sinceMs: number): MetricsSample[] {
      const from = new Date(sinceMs).toISOString();
      return (byEnv.get(environmentId) ?? []).filter((s) => s.at > from);
    },
  };
}
export type MetricsHistory = ReturnType<typeof createMetricsHistory>;
