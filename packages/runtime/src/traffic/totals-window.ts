// Per-pool figures over a time window for a provider that only has running totals (HAProxy's
// `show stat` counters): readings of `totals()` are kept with their time, and a window is the
// difference between the newest reading and the one at (or just before) its start. No latency:
// percentiles cannot be derived from counters.
import type { PoolWindowStats } from '../router/stats.ts';
import type { TrafficCounts, TrafficTotals } from './provider.ts';

interface Reading {
  at: number;
  /** Per pool, monotonic across provider restarts (counters that went back are re-based). */
  pools: Map<string, { requests: number; errors: number }>;
  inFlight: Map<string, number>;
}

export interface TotalsWindowResult {
  /** What the window really covers, ms: shorter than asked when no reading is that old. */
  coveredMs: number;
  /** When the window starts (epoch ms). */
  from: number;
  pools: { pool: string; requests: number; errors: number; inFlight: number; totals: TrafficCounts }[];
}

export class TotalsWindow {
  private readonly readings: Reading[] = [];
  /** Per pool: what the counters had reached before they last went back (provider restart). */
  private readonly offset = new Map<string, { requests: number; errors: number }>();
  private readonly last = new Map<string, { requests: number; errors: number }>();

  constructor(
    /** Readings older than this are dropped. */
    private readonly maxAgeMs = 15 * 60_000,
    private readonly maxReadings = 4_000,
  ) {}

  get size(): number {
    return this.readings.length;
  }

  /** Records a reading of `totals()` taken at `at` (epoch ms). */
  add(at: number, totals: TrafficTotals): void {
    // Readings come in time order; one out of order (a slow concurrent read) is dropped.
    const newest = this.readings.at(-1);
    if (newest && newest.at > at) return;
    const pools = new Map<string, { requests: number; errors: number }>();
    const inFlight = new Map<string, number>();
    for (const [pool, raw] of Object.entries(totals.pools)) {
      const prev = this.last.get(pool);
      if (prev && (raw.requests < prev.requests || raw.errors < prev.errors)) {
        // The counters restarted (a new router process): what the old one counted stays counted.
        const o = this.offset.get(pool) ?? { requests: 0, errors: 0 };
        this.offset.set(pool, { requests: o.requests + prev.requests, errors: o.errors + prev.errors });
      }
      this.last.set(pool, { requests: raw.requests, errors: raw.errors });
      const o = this.offset.get(pool) ?? { requests: 0, errors: 0 };
      pools.set(pool, { requests: raw.requests + o.requests, errors: raw.errors + o.errors });
      inFlight.set(pool, raw.inFlight ?? 0);
    }
    this.readings.push({ at, pools, inFlight });
    while (
      this.readings.length > this.maxReadings ||
      (this.readings.length > 1 && (this.readings[0] as Reading).at < at - this.maxAgeMs)
    ) {
      this.readings.shift();
    }
  }

  /**
   * The figures of the last `windowMs` before the newest reading; null with fewer than two
   * readings (nothing to take a difference of).
   */
  window(windowMs: number): TotalsWindowResult | null {
    const end = this.readings.at(-1);
    if (!end || this.readings.length < 2) return null;
    const startAt = end.at - windowMs;
    // The newest reading at or before the window's start; else the oldest there is.
    let start = this.readings[0] as Reading;
    for (const r of this.readings) {
      if (r.at > startAt || r === end) break;
      start = r;
    }
    if (start === end) return null;
    const pools = [...end.pools.entries()].map(([pool, t]) => {
      const s = start.pools.get(pool) ?? { requests: 0, errors: 0 };
      return {
        pool,
        requests: Math.max(0, t.requests - s.requests),
        errors: Math.max(0, t.errors - s.errors),
        inFlight: end.inFlight.get(pool) ?? 0,
        totals: { requests: t.requests, errors: t.errors },
      };
    });
    return { coveredMs: end.at - start.at, from: start.at, pools };
  }
}

/**
 * A window in the Node router's `PoolWindowStats` shape: counts and error rate, no latency
 * (`p50`, `p95`, `p99` null), `windowMs` what was really covered.
 */
export function toPoolWindowStats(
  w: TotalsWindowResult,
  versions: Record<string, string | null>,
): PoolWindowStats[] {
  return w.pools.map((p) => ({
    pool: p.pool,
    version: versions[p.pool] ?? null,
    windowMs: w.coveredMs,
    requests: p.requests,
    errors: p.errors,
    errorRate: p.requests > 0 ? p.errors / p.requests : 0,
    p50: null,
    p95: null,
    p99: null,
    inFlight: p.inFlight,
    totals: { requests: p.totals.requests, errors: p.totals.errors, retries: 0 },
    since: new Date(w.from).toISOString(),
  }));
}
