import { describe, expect, it } from 'vitest';
import type { TrafficTotals } from './provider.ts';
import { TotalsWindow, toPoolWindowStats } from './totals-window.ts';

const totals = (pools: Record<string, [number, number, number?]>): TrafficTotals => {
  const out: TrafficTotals = { requests: 0, errors: 0, pools: {} };
  for (const [pool, [requests, errors, inFlight]] of Object.entries(pools)) {
    out.pools[pool] = { requests, errors, ...(inFlight === undefined ? {} : { inFlight }) };
    out.requests += requests;
    out.errors += errors;
  }
  return out;
};

describe('TotalsWindow', () => {
  it('needs two readings', () => {
    const w = new TotalsWindow();
    expect(w.window(1_000)).toBeNull();
    w.add(1_000, totals({ blue: [10, 0] }));
    expect(w.window(1_000)).toBeNull();
  });

  it('takes the difference from the newest reading at or before the window start', () => {
    const w = new TotalsWindow();
    w.add(0, totals({ blue: [0, 0] }));
    w.add(1_000, totals({ blue: [100, 1], green: [5, 0] }));
    w.add(2_000, totals({ blue: [200, 1], green: [50, 5] }));
    w.add(3_000, totals({ blue: [300, 4, 2], green: [150, 5, 1] }));
    const last2s = w.window(2_000);
    expect(last2s?.coveredMs).toBe(2_000);
    expect(last2s?.pools).toEqual([
      { pool: 'blue', requests: 200, errors: 3, inFlight: 2, totals: { requests: 300, errors: 4 } },
      // Not in the reading at the start: it counted from zero.
      { pool: 'green', requests: 145, errors: 5, inFlight: 1, totals: { requests: 150, errors: 5 } },
    ]);
    // Longer than what is kept: the oldest reading, and the coverage says so.
    expect(w.window(60_000)?.coveredMs).toBe(3_000);
    // Shorter than the spacing: the reading before the start, so nothing is missed.
    expect(w.window(500)?.coveredMs).toBe(1_000);
  });

  it('keeps counting across a restart of the counters', () => {
    const w = new TotalsWindow();
    w.add(0, totals({ blue: [100, 2] }));
    w.add(1_000, totals({ blue: [150, 2] }));
    // A new router process: its counters start at zero.
    w.add(2_000, totals({ blue: [30, 1] }));
    w.add(3_000, totals({ blue: [80, 1] }));
    expect(w.window(3_000)?.pools[0]).toMatchObject({ requests: 130, errors: 1 });
    expect(w.window(1_000)?.pools[0]).toMatchObject({ requests: 50, errors: 0 });
  });

  it('drops readings older than its age limit, and readings out of order', () => {
    const w = new TotalsWindow(10_000);
    for (let t = 0; t <= 30_000; t += 1_000) w.add(t, totals({ blue: [t, 0] }));
    w.add(5_000, totals({ blue: [1, 0] }));
    expect(w.size).toBe(11);
    expect(w.window(60_000)).toMatchObject({ coveredMs: 10_000, pools: [{ requests: 10_000 }] });
  });

  it('gives the router window shape with no latency figures', () => {
    const w = new TotalsWindow();
    w.add(0, totals({ green: [0, 0] }));
    w.add(4_000, totals({ green: [40, 2, 3] }));
    const [s] = toPoolWindowStats(w.window(4_000) as NonNullable<ReturnType<TotalsWindow['window']>>, {
      green: '1.1.0',
    });
    expect(s).toEqual({
      pool: 'green',
      version: '1.1.0',
      windowMs: 4_000,
      requests: 40,
      errors: 2,
      errorRate: 0.05,
      p50: null,
      p95: null,
      p99: null,
      inFlight: 3,
      totals: { requests: 40, errors: 2, retries: 0 },
      since: new Date(0).toISOString(),
    });
  });
});
