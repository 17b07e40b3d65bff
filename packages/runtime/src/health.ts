import { request } from 'undici';
import type { HealthResult, InstanceAddress, ProbeTarget, WaitHealthyResult } from './types.ts';

/** One HTTP health probe; never throws. Healthy means a 2xx answer within the timeout. */
export async function probeHttp(
  id: string,
  url: string,
  timeoutMs = 2_000,
  signal?: AbortSignal,
): Promise<HealthResult> {
  const started = performance.now();
  const timeout = AbortSignal.timeout(timeoutMs);
  try {
    const res = await request(url, {
      method: 'GET',
      signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
    await res.body.dump();
    const healthy = res.statusCode >= 200 && res.statusCode < 300;
    return {
      id,
      healthy,
      status: res.statusCode,
      error: healthy ? null : `HTTP ${res.statusCode}`,
      latencyMs: performance.now() - started,
    };
  } catch (err) {
    const e = err as Error & { code?: string };
    return {
      id,
      healthy: false,
      status: null,
      error: timeout.aborted ? `timed out after ${timeoutMs} ms` : (e.code ?? e.message),
      latencyMs: performance.now() - started,
    };
  }
}

const bracketed = (host: string) => (host.includes(':') && !host.startsWith('[') ? `[${host}]` : host);

/** Base URL of an instance at `address`, e.g. `http://10.0.0.7:41234`. */
export function instanceUrl(address: InstanceAddress): string {
  return `http://${bracketed(address.host)}:${address.port}`;
}

/** `host:port`, the form traffic routers take as a target. */
export function instanceTarget(address: InstanceAddress): string {
  return `${bracketed(address.host)}:${address.port}`;
}

export function healthUrl(target: ProbeTarget): string {
  return `${instanceUrl(target)}${target.healthPath}`;
}

export function checkHealth(target: ProbeTarget, timeoutMs = 2_000, signal?: AbortSignal) {
  return probeHttp(target.id, healthUrl(target), timeoutMs, signal);
}

/**
 * Polls every instance until all answer 2xx, or the deadline passes (`ok: false`, with the last
 * result for each). Rejects only when `signal` aborts.
 */
export async function waitHealthy(
  instances: ProbeTarget[],
  timeoutMs: number,
  signal?: AbortSignal,
  options: { intervalMs?: number; probeTimeoutMs?: number } = {},
): Promise<WaitHealthyResult> {
  const intervalMs = options.intervalMs ?? 200;
  const deadline = Date.now() + timeoutMs;
  const last = new Map<string, HealthResult>();
  const pending = new Set(instances.map((i) => i.id));
  while (true) {
    signal?.throwIfAborted();
    const remaining = deadline - Date.now();
    const probeTimeout = Math.max(50, Math.min(options.probeTimeoutMs ?? 2_000, remaining));
    await Promise.all(
      instances
        .filter((i) => pending.has(i.id))
        .map(async (i) => {
          const r = await checkHealth(i, probeTimeout, signal);
          last.set(i.id, r);
          if (r.healthy) pending.delete(i.id);
        }),
    );
    signal?.throwIfAborted();
    if (pending.size === 0 || Date.now() >= deadline) break;
    await new Promise<void>((resolve) => {
      const t = setTimeout(done, Math.min(intervalMs, Math.max(0, deadline - Date.now())));
      function done() {
        signal?.removeEventListener('abort', done);
        clearTimeout(t);
        resolve();
      }
      signal?.addEventListener('abort', done, { once: true });
    });
  }
  return {
    ok: pending.size === 0,
    results: instances.map(
      (i) => last.get(i.id) ?? { id: i.id, healthy: false, status: null, error: 'not probed', latencyMs: 0 },
    ),
  };
}
