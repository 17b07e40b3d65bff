import type { PoolWindowStats } from '@qubot/runtime';
import { describe, expect, it } from 'vitest';
import { createMetricsHistory, toSample } from './samples.ts';

const stats = (pool: string, window: number, windowErrors: number, total: number, totalErrors: number) =>
  ({
    pool,
    version: pool === 'blue' ? '1.0.0' : '1.1.0',
    windowMs: 2000,
    requests: window,
    errors: windowErrors,
    errorRate: 0,
    p50: 1,
    p95: window ? 4.5 : null,
    p99: 9,
    inFlight: 1,
    totals: { requests: total, errors: totalErrors, retries: 0 },
    since: '2026-01-01T00:00:00.000Z',
  }) satisfies PoolWindowStats;

describe('toSample', () => {
  it('counts the difference of the totals, and the window for a new pool or after a reset', () => {
    const first = toSample(undefined, [stats('blue', 40, 1, 500, 3)], 1_000, 2000);
    expect(first.sample).toEqual({
      at: new Date(1_000).toISOString(),
      intervalMs: 2000,
      pools: [{ pool: 'blue', version: '1.0.0', requests: 40, errors: 1, p95Ms: 4.5, inFlight: 1 }],
    });
    // Window says 41 (overlapping jitter), the totals say exactly 37 more.
    const second = toSample(
      first.totals,
      [stats('blue', 41, 0, 537, 5), stats('green', 3, 0, 3, 0)],
      3_000,
      2000,
    );
    expect(second.sample.pools.map((p) => [p.pool, p.requests, p.errors])).toEqual([
      ['blue', 37, 2],
      ['green', 3, 0],
    ]);
    // Totals went back to zero (router restarted): the window is the best we have.
    const third = toSample(second.totals, [stats('blue', 12, 0, 12, 0)], 5_000, 2000);
    expect(third.sample.pools[0]).toMatchObject({ requests: 12, errors: 0 });
  });
});

describe('createMetricsHistory', () => {
  const s = (ms: number) => ({ at: new Date(ms).toISOString(), intervalMs: 2000, pools: [] });
  it('keeps the newest samples per environment, in time order, without duplicates', () => {
    const h = createMetricsHistory(3);
    for (const ms of [1000, 2000, 3000, 4000]) h.add('e1', s(ms));
    h.add('e1', s(4000));
    h.add('e1', s(3500));
    h.add('e2', s(1000));
    expect(h.since('e1', 0).map((x) => Date.parse(x.at))).toEqual([3000, 3500, 4000]);
    expect(h.since('e1', 3000).map((x) => Date.parse(x.at))).toEqual([3500, 4000]);
    expect(h.since('e2', 0)).toHaveLength(1);
    expect(h.since('nope', 0)).toEqual([]);
  });
});
