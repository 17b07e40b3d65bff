// A bounded closed-loop load generator for loopback benchmarks: `concurrency`
// workers issue GETs back to back until `durationMs` has passed or `signal` is
// aborted (optionally paced to a target rate), recording latency, status and errors.
import { readFileSync } from 'node:fs';
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

/** One request as the client saw it; times are `performance.now()` values. */
export interface Sample {
  worker: number;
  sentAt: number;
  doneAt: number;
  status: number | null;
  /** The answering release's `X-Qubot-Version` header, if any. */
  version: string | null;
  /** Network error code (ECONNRESET, UND_ERR_HEADERS_TIMEOUT, …) when there was no answer. */
  error: string | null;
}

export function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

/**
 * Requests sent on a fixed schedule, open loop (latency measured from the scheduled send time, so a
 * slow answer cannot slow the offered load down): the tail latency at a given rate.
 */
export async function pacedLoad(
  url: string,
  opts: {
    rate: number;
    durationMs: number;
    connections: number;
    headers?: Record<string, string>;
    /**
     * Sent first at the same rate on the same connections, not counted (default 2,000 ms): the
     * figures are those of a steady stream, not of its first moments — opening the connections, a
     * cache the previous phase let expire. Its own p99 is returned as `warmupP99`.
     */
    warmupMs?: number;
  },
) {
  const { rate, connections } = opts;
  const agent = new Agent({ connections, keepAliveTimeout: 10_000 });
  /** One stream's latencies (sorted) and its answers that were not 200 or no answer. */
  const stream = async (durationMs: number) => {
    const times: number[] = [];
    let failed = 0;
    const start = performance.now();
    const total = Math.floor((rate * durationMs) / 1000);
    const pending: Promise<void>[] = [];
    for (let i = 0; i < total; i++) {
      const at = start + (i * 1000) / rate;
      const wait = at - performance.now();
      if (wait > 1) await new Promise((r) => setTimeout(r, wait));
      pending.push(
        (async () => {
          // Latency counts from the scheduled time (a request that left late waited for its turn),
          // or from the moment it left if that was up to 1 ms early.
          const from = Math.min(at, performance.now());
          try {
            const res = await request(url, {
              ...(opts.headers ? { headers: opts.headers } : {}),
              dispatcher: agent,
            });
            await res.body.dump();
            if (res.statusCode !== 200) failed++;
          } catch {
            failed++;
          }
          times.push(performance.now() - from);
        })(),
      );
    }
    await Promise.all(pending);
    return { times: times.sort((a, b) => a - b), failed };
  };
  // The measured stream starts once the warm-up's last answer is in.
  const warmup = await stream(opts.warmupMs ?? 2000);
  const { times, failed } = await stream(opts.durationMs);
  await agent.close();
  return {
    sent: times.length,
    p50: percentile(times, 50),
    p99: percentile(times, 99),
    max: times[times.length - 1] ?? Number.NaN,
    failed,
    /** Answers that took over 10 ms (the pipeline read's goal at 500 req/s is a p99 ≤ 10 ms). */
    over10ms: times.filter((t) => t > 10).length,
    warmupP99: percentile(warmup.times, 99),
    warmupFailed: warmup.failed,
  };
}

export async function runLoad(opts: {
  url: string;
  /** Stop after this long; without it, run until `signal` aborts. */
  durationMs?: number;
  signal?: AbortSignal;
  concurrency: number;
  /** Requests per second across all workers; unset = as fast as possible. */
  rate?: number;
  onSample?: (sample: Sample) => void;
}): Promise<LoadResult> {
  // A bounded wait so a stuck upstream shows up as an error instead of stalling the bench.
  const agent = new Agent({
    keepAliveTimeout: 10_000,
    connections: opts.concurrency,
    headersTimeout: 10_000,
    bodyTimeout: 10_000,
  });
  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  let failed = 0;
  const start = performance.now();
  const end = opts.durationMs === undefined ? Number.POSITIVE_INFINITY : start + opts.durationMs;
  const running = () => performance.now() < end && !opts.signal?.aborted;
  const interval = opts.rate ? (1000 * opts.concurrency) / opts.rate : 0;
  const worker = async (n: number) => {
    let next = start + (interval * n) / opts.concurrency;
    while (running()) {
      if (interval) {
        const wait = next - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        if (!running()) break;
        // No catch-up burst after a slow answer: a stalled worker resumes at the target pace.
        next = Math.max(next + interval, performance.now());
      }
      const t0 = performance.now();
      const sample: Sample = { worker: n, sentAt: t0, doneAt: t0, status: null, version: null, error: null };
      try {
        const res = await request(opts.url, { dispatcher: agent });
        await res.body.text();
        sample.doneAt = performance.now();
        latencies.push(sample.doneAt - t0);
        sample.status = res.statusCode;
        const v = res.headers['x-qubot-version'];
        sample.version = typeof v === 'string' ? v : null;
        statuses[res.statusCode] = (statuses[res.statusCode] ?? 0) + 1;
        if (res.statusCode >= 500) failed++;
      } catch (err) {
        sample.doneAt = performance.now();
        sample.error = (err as { code?: string }).code ?? (err as Error).message;
        failed++;
        statuses.error = (statuses.error ?? 0) + 1;
      }
      opts.onSample?.(sample);
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

/** utime + stime of a process (all its threads), in ms, from /proc; NaN once it is gone. */
export function cpuMs(pid: number): number {
  const { user, sys } = cpuSplitMs(pid);
  return user + sys;
}

/**
 * utime and stime, in ms, from /proc: of the whole process (all its threads), or with `mainThread`
 * of its main thread only (`/proc/<pid>/task/<pid>/stat`), where a Node server's JavaScript and its
 * socket system calls run. NaN once it is gone.
 */
export function cpuSplitMs(pid: number, mainThread = false): { user: number; sys: number } {
  try {
    const stat = readFileSync(mainThread ? `/proc/${pid}/task/${pid}/stat` : `/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { user: (Number(f[11]) * 1000) / 100, sys: (Number(f[12]) * 1000) / 100 };
  } catch {
    return { user: Number.NaN, sys: Number.NaN };
  }
}
