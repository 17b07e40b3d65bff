// The request hot path of the traffic router: one `Exchange` object per client request forwards it
// to an upstream over an undici connection pool (one pool per target, keep-alive) and streams the
// answer back. No per-request closures, header objects or URL parsing on the common path.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type Dispatcher, Pool } from 'undici';
import type { PoolConfig, RouterConfigState } from './config.ts';
import type { PoolMetrics, PoolStats } from './stats.ts';

export interface Upstream {
  origin: string;
}

export interface LivePool {
  cfg: PoolConfig;
  /** Smooth weighted round-robin state. */
  current: number;
  /** Round-robin position within the pool's targets. */
  rr: number;
  stats: PoolStats;
  metrics: PoolMetrics;
}

/** One immutable routing table; requests take a reference and never see a half-applied change. */
export interface Live {
  state: RouterConfigState;
  pools: LivePool[];
  /** `host:port` → upstream, parsed once per config rather than per request. */
  upstreams: Map<string, Upstream>;
}

/** What an exchange needs from its router besides the routing table it started with. */
export interface ExchangeHost {
  /** The connection pool to a target (created on demand). */
  dispatcher(target: string, upstream: Upstream): Dispatcher;
  pickTarget(pool: LivePool, exclude: readonly string[]): string | null;
  alternative(
    table: Live,
    pool: LivePool,
    tried: readonly string[],
  ): { pool: LivePool; target: string } | null;
  /** In-flight count per target (drain); +1 when a target is chosen, −1 when it is left. */
  bump(target: string, delta: number): void;
  /** A target refused a connection: skip it for a while. */
  markDown(target: string): void;
  retried(pool: LivePool): void;
  finished(): void;
  log(msg: string, extra?: Record<string, unknown>): void;
}

// Hop-by-hop headers (RFC 9110 §7.6.1) describe one connection, not the message: the router keeps its
// own keep-alive with each side, so a client's `Connection: close` must not close an upstream socket.
// `expect` is answered by the router's own HTTP server (100-continue) and not passed on.
const REQUEST_SKIP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'trailer',
  'expect',
  'x-forwarded-for',
  'x-forwarded-port',
  'x-forwarded-proto',
  'x-forwarded-host',
]);
const RESPONSE_SKIP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'x-qubot-pool',
]);

/** Failures where the upstream never got the request: always safe to send it elsewhere. */
const NEVER_REACHED = new Set([
  'ECONNREFUSED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EADDRNOTAVAIL',
  'ETIMEDOUT',
  'UND_ERR_CONNECT_TIMEOUT',
]);
/** The connection closed before any answer: the request may or may not have been processed. */
const CLOSED_UNANSWERED = new Set(['UND_ERR_SOCKET', 'ECONNRESET', 'EPIPE']);
/** RFC 9110 §9.2.2: requests a client may repeat automatically when the connection failed. */
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);

// Paths that the URL parser would return unchanged (no dot segments, nothing to percent-encode);
// anything else is normalised as before, through `new URL`.
const PLAIN_PATH = /^\/(?!\/)[\w\-/?=&%+,;:@~!$*()]*$/;

export function upstreamPath(url: string): string {
  if (PLAIN_PATH.test(url) && !url.endsWith('?')) return url;
  try {
    const u = new URL(url.startsWith('//') ? `http://base.invalid${url}` : url, 'http://base.invalid');
    return `${u.pathname}${u.search}`;
  } catch {
    return '/';
  }
}

/** Request headers for the upstream as a flat [name, value, …] list. */
export function upstreamHeaders(req: IncomingMessage, fallbackHost: string): string[] {
  const raw = req.rawHeaders;
  const out: string[] = [];
  let host = false;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string;
    const lower = name.toLowerCase();
    if (REQUEST_SKIP.has(lower)) continue;
    if (lower === 'host') host = true;
    out.push(name, raw[i + 1] as string);
  }
  if (!host) out.push('host', fallbackHost);
  const h = req.headers;
  const xff = h['x-forwarded-for'] as string | undefined;
  const client = req.socket.remoteAddress ?? '';
  out.push('x-forwarded-for', xff ? `${xff},${client}` : client);
  const xfp = h['x-forwarded-port'] as string | undefined;
  const port = /:(\d+)$/.exec(h.host ?? '')?.[1] ?? '80';
  out.push('x-forwarded-port', xfp ? `${xfp},${port}` : port);
  const proto = h['x-forwarded-proto'] as string | undefined;
  out.push('x-forwarded-proto', proto ? `${proto},http` : 'http');
  out.push('x-forwarded-host', (h['x-forwarded-host'] as string | undefined) || h.host || '');
  return out;
}

const kExchange = Symbol('exchange');
type TaggedResponse = ServerResponse & { [kExchange]?: Exchange };

// Shared listeners (`this` is the response): no closure per request.
function onClientClose(this: TaggedResponse) {
  this[kExchange]?.clientClosed();
}

export interface ExchangeOptions {
  headersTimeout: number;
  bodyTimeout: number;
}

/**
 * One client request and its upstream attempts (at most two: a request that never reached its
 * upstream, or an idempotent one whose connection closed unanswered, is resent once elsewhere).
 * It is its own undici dispatch handler.
 */
export class Exchange implements Dispatcher.DispatchHandler {
  private readonly started = performance.now();
  private target: string;
  private readonly tried: string[] = [];
  private readonly headers: string[];
  private readonly path: string;
  private abortUpstream: ((err?: Error) => void) | null = null;
  private resumeUpstream: (() => void) | null = null;
  private proxyError = false;
  private retriedOnce = false;
  private answered = false;
  private closed = false;

  constructor(
    private readonly host: ExchangeHost,
    private readonly opts: ExchangeOptions,
    private readonly req: IncomingMessage,
    private readonly res: ServerResponse,
    /** The buffered request body (retry possible), or null when it is streamed through. */
    private readonly body: Buffer | null,
    private readonly table: Live,
    private pool: LivePool,
    target: string,
  ) {
    this.target = target;
    // Built once: a retry sends the same request, not one with the forwarding headers added twice.
    this.headers = upstreamHeaders(req, target);
    this.path = upstreamPath(req.url ?? '/');
    pool.stats.inFlight++;
    host.bump(target, 1);
    (res as TaggedResponse)[kExchange] = this;
    res.once('close', onClientClose);
  }

  start(): void {
    this.tried.push(this.target);
    const upstream = this.table.upstreams.get(this.target) as Upstream;
    this.host.dispatcher(this.target, upstream).dispatch(
      {
        path: this.path,
        method: this.req.method as Dispatcher.HttpMethod,
        headers: this.headers,
        body: this.body === null ? this.req : this.body.length > 0 ? this.body : undefined,
        headersTimeout: this.opts.headersTimeout,
        bodyTimeout: this.opts.bodyTimeout,
      },
      this,
    );
  }

  // ---- undici handler ------------------------------------------------------------------------

  onConnect(abort: (err?: Error) => void): void {
    this.abortUpstream = abort;
    if (this.closed) abort();
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[], resume: () => void, statusText: string): boolean {
    // Informational answers (103 Early Hints …) are not forwarded; the final one follows.
    if (statusCode < 200) return true;
    this.answered = true;
    this.resumeUpstream = resume;
    const res = this.res;
    if (this.closed || res.headersSent) return true;
    const out: string[] = [];
    for (let i = 0; i < rawHeaders.length; i += 2) {
      const name = (rawHeaders[i] as Buffer).toString('latin1');
      if (RESPONSE_SKIP.has(name.toLowerCase())) continue;
      out.push(name, (rawHeaders[i + 1] as Buffer).toString('latin1'));
    }
    out.push('x-qubot-pool', this.pool.cfg.name);
    // A flat header list on a response without setHeader() calls is written as is (fast path).
    res.writeHead(statusCode, statusText, out);
    return true;
  }

  onData(chunk: Buffer): boolean {
    if (this.closed) return true;
    if (this.res.write(chunk)) return true;
    // Backpressure: the upstream socket waits until the client has taken what was written.
    this.res.once('drain', this.resumeUpstream as () => void);
    return false;
  }

  onComplete(): void {
    if (!this.closed) this.res.end();
  }

  onError(err: Error & { code?: string }): void {
    if (this.closed) return;
    const code = err.code ?? '';
    if (code === 'ECONNREFUSED') this.host.markDown(this.target);
    if (!this.answered && !this.retriedOnce && this.body !== null && this.retriable(code)) {
      const next = this.host.alternative(this.table, this.pool, this.tried);
      if (next) {
        this.retriedOnce = true;
        this.host.retried(this.pool);
        this.host.bump(this.target, -1);
        if (next.pool !== this.pool) {
          this.pool.stats.inFlight--;
          this.pool = next.pool;
          this.pool.stats.inFlight++;
        }
        this.target = next.target;
        this.host.bump(this.target, 1);
        this.abortUpstream = null;
        this.host.log('retrying on another target', { code, target: this.target });
        this.start();
        return;
      }
    }
    if (code === 'UND_ERR_INVALID_ARG' || code === 'UND_ERR_NOT_SUPPORTED')
      this.host.log('cannot build upstream request', { error: String(err) });
    this.badGateway();
  }

  private retriable(code: string): boolean {
    if (NEVER_REACHED.has(code)) return true;
    return CLOSED_UNANSWERED.has(code) && IDEMPOTENT.has(this.req.method ?? '');
  }

  private badGateway(): void {
    this.proxyError = true;
    const res = this.res;
    if (res.headersSent) {
      // The upstream failed mid-body: cut the client's response short too.
      res.destroy();
      return;
    }
    res.writeHead(502, ['content-type', 'application/json', 'x-qubot-pool', this.pool.cfg.name]);
    res.end('{"error":{"code":"BAD_GATEWAY","message":"upstream unavailable"}}');
  }

  /** The client's response closed: finished, or the client went away. */
  clientClosed(): void {
    this.closed = true;
    const pool = this.pool;
    pool.stats.inFlight--;
    this.host.bump(this.target, -1);
    this.host.finished();
    const res = this.res;
    if (!res.writableFinished && !this.proxyError) {
      // The client went away; not the pool's fault. Stop the upstream exchange too.
      this.abortUpstream?.();
      return;
    }
    const ms = performance.now() - this.started;
    const status = res.statusCode;
    const isError = this.proxyError || status >= 500;
    pool.stats.record(ms, isError);
    pool.metrics.record(status, ms / 1000, this.proxyError);
  }
}

export interface UpstreamPoolOptions {
  connectTimeoutMs: number;
}

/** One undici connection pool per target, kept while the target is in the routing config. */
export class UpstreamPools {
  private readonly pools = new Map<string, Pool>();

  constructor(private readonly opts: UpstreamPoolOptions) {}

  get(target: string, upstream: Upstream): Pool {
    let pool = this.pools.get(target);
    if (!pool) {
      pool = new Pool(upstream.origin, {
        connect: { timeout: this.opts.connectTimeoutMs, noDelay: true },
        // Timeouts are per request (the exchange passes them); these are only the defaults.
        keepAliveTimeout: 4_000,
      });
      this.pools.set(target, pool);
    }
    return pool;
  }

  /** Closes (after their requests finish) the pools of targets no longer routed to. */
  retain(targets: ReadonlySet<string>): void {
    for (const [target, pool] of this.pools) {
      if (targets.has(target)) continue;
      this.pools.delete(target);
      pool.close().catch(() => {});
    }
  }

  async destroy(): Promise<void> {
    const all = [...this.pools.values()];
    this.pools.clear();
    await Promise.all(all.map((p) => p.destroy().catch(() => {})));
  }
}
