// A bounded closed-loop load generator for loopback benchmarks: `concurrency`
// workers issue GETs back to back until `durationMs` has passed (or a target
// rate is met), recording latency, status and errors.
import { Agent, request } from 'undici';

export interface LoadResult {
  requests: number;
  failed: number;
  durationMs: number;
  rps: number;
  p50: number;
  p99: number;
  statuses: Record<string, number>;
}

export function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

export async function runLoad(opts: {
  url: string;
  durationMs: number;
  concurrency: number;
  /** Requests per second across all workers; unset = as fast as possible. */
  rate?: number;
  onResponse?: (status: number, body: string) => void;
}): Promise<LoadResult> {
  const agent = new Agent({ keepAliveTimeout: 10_000, connections: opts.concurrency });
  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  let failed = 0;
  const start = performance.now();
  const end = start + opts.durationMs;
  const interval = opts.rate ? (1000 * opts.concurrency) / opts.rate : 0;
  const worker = async (offset: number) => {
    let next = start + (interval * offset) / opts.concurrency;
    while (performance.now() < end) {
      if (interval) {
        const wait = next - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        next += interval;
      }
      const t0 = performance.now();
      try {
        const res = await request(opts.url, { dispatcher: agent });
        const body = await res.body.text();
        latencies.push(performance.now() - t0);
        statuses[res.statusCode] = (statuses[res.statusCode] ?? 0) + 1;
        if (res.statusCode >= 500) failed++;
        opts.onResponse?.(res.statusCode, body);
      } catch {
        failed++;
        statuses.error = (statuses.error ?? 0) + 1;
      }
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency }, (_, i) => worker(i)));
  const durationMs = performance.now() - start;
  await agent.close();
  latencies.sort((a, b) => a - b);
  return {
    requests: latencies.length + (statuses.error ?? 0),
    failed,
    durationMs,
    rps: (latencies.length / durationMs) * 1000,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    statuses,
  };
}

export const fmt = (n: number, digits = 2) => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');
