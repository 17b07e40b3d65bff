import { request } from 'undici';
import type { RouterConfig, RouterConfigState } from './config.ts';
import type { PoolWindowStats } from './stats.ts';

export class RouterClientError extends Error {
  override name = 'RouterClientError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: unknown = null,
  ) {
    super(message);
  }
}

export interface RouterClientOptions {
  /** e.g. `http://127.0.0.1:9101` */
  controlUrl: string;
  secret: string;
  timeoutMs?: number;
}

/** Talks to a traffic router's control API (loopback only, bearer secret). */
export class RouterClient {
  readonly controlUrl: string;
  private readonly secret: string;
  private readonly timeoutMs: number;

  constructor(options: RouterClientOptions) {
    this.controlUrl = options.controlUrl.replace(/\/+$/, '');
    this.secret = options.secret;
    this.timeoutMs = options.timeoutMs ?? 5_000;
  }

  private async call<T>(
    method: 'GET' | 'PUT' | 'POST',
    path: string,
    body?: unknown,
    auth = true,
  ): Promise<T> {
    const res = await request(`${this.controlUrl}${path}`, {
      method,
      headers: {
        ...(auth ? { authorization: `Bearer ${this.secret}` } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      body: body !== undefined ? JSON.stringify(body) : undefined,
      headersTimeout: this.timeoutMs,
      bodyTimeout: this.timeoutMs,
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    const text = await res.body.text();
    const json = text ? (JSON.parse(text) as unknown) : null;
    if (res.statusCode >= 400) {
      const e = (json as { error?: { code?: string; message?: string; details?: unknown } } | null)?.error;
      throw new RouterClientError(
        res.statusCode,
        e?.code ?? 'ERROR',
        e?.message ?? `HTTP ${res.statusCode}`,
        e?.details,
      );
    }
    return json as T;
  }

  /**
   * `listening`: the traffic port is bound (false while the router waits for it to be freed);
   * `draining`: the router is stopping (its port closed, in-flight requests finishing).
   */
  health(): Promise<{
    status: string;
    pid: number;
    revision: number;
    listening?: boolean;
    draining?: boolean;
  }> {
    return this.call('GET', '/healthz', undefined, false);
  }

  getConfig(): Promise<RouterConfigState> {
    return this.call('GET', '/config');
  }

  /** Atomic for new requests; in-flight requests finish on their old upstream. */
  setConfig(config: RouterConfig): Promise<RouterConfigState> {
    return this.call('PUT', '/config', config);
  }

  stats(pool: string, windowMs = 60_000): Promise<PoolWindowStats> {
    return this.call('GET', `/stats?pool=${encodeURIComponent(pool)}&windowMs=${windowMs}`);
  }

  allStats(windowMs = 60_000): Promise<{ windowMs: number; pools: PoolWindowStats[] }> {
    return this.call('GET', `/stats?windowMs=${windowMs}`);
  }

  resetStats(pool?: string): Promise<{ reset: string }> {
    return this.call('POST', `/stats/reset${pool ? `?pool=${encodeURIComponent(pool)}` : ''}`);
  }

  inFlight(): Promise<{ total: number; targets: Record<string, number> }> {
    return this.call('GET', '/inflight');
  }

  /**
   * Resolves once no request is in flight to any of `targets` (after a switch, before their
   * instances are stopped); false if they are still busy at the deadline.
   */
  async waitDrained(targets: string[], timeoutMs = 30_000, intervalMs = 50): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (true) {
      const { targets: busy } = await this.inFlight();
      if (targets.every((t) => !busy[t])) return true;
      if (Date.now() >= deadline) return false;
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  }

  async metrics(): Promise<string> {
    const res = await request(`${this.controlUrl}/metrics`, { signal: AbortSignal.timeout(this.timeoutMs) });
    return res.body.text();
  }
}
