import { createHash, timingSafeEqual } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import {
  Agent,
  type ClientRequest,
  createServer,
  type IncomingMessage,
  request,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { dirname } from 'node:path';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import {
  ConfigValidationError,
  type PoolConfig,
  parseTarget,
  type RouterConfig,
  type RouterConfigState,
  validateRouterConfig,
} from './config';
import { PoolStats, type PoolWindowStats } from './stats';

export interface TrafficRouterOptions {
  /** Traffic port: the environment's stable address. */
  port: number;
  /** Control API port; always bound to 127.0.0.1. */
  controlPort: number;
  /** Bearer token required by the control API. */
  secret: string;
  /** Where the last accepted config is persisted and reloaded from at start. */
  stateFile?: string;
  /** Interface for the traffic port; default 127.0.0.1. */
  host?: string;
  /** How long a target that refused a connection is skipped; default 2 s. */
  targetDownMs?: number;
  connectTimeoutMs?: number;
  /** Upstream response timeout; default 60 s. */
  proxyTimeoutMs?: number;
  /** Request bodies up to this size are buffered so the request can be retried; default 1 MiB. */
  maxReplayBodyBytes?: number;
  /** On close, how long in-flight requests may take; default 15 s. */
  drainTimeoutMs?: number;
  log?: (msg: string, extra?: Record<string, unknown>) => void;
}

export interface TrafficRouter {
  listen(): Promise<{ port: number; controlPort: number }>;
  close(): Promise<void>;
  getConfig(): RouterConfigState;
  setConfig(config: RouterConfig): RouterConfigState;
  stats(pool: string, windowMs: number): PoolWindowStats | null;
  allStats(windowMs: number): PoolWindowStats[];
  inFlight(): { total: number; targets: Record<string, number> };
  readonly registry: Registry;
}

interface LivePool {
  cfg: PoolConfig;
  current: number;
  rr: number;
  /** Metric label sets, built once per config instead of one object per request. */
  labels: PoolLabels;
}

interface PoolLabels {
  pv: { pool: string; version: string };
  /** By status class: index 1 → 1xx … 5 → 5xx. */
  code: { pool: string; version: string; code: string }[];
  err5xx: { pool: string; version: string; kind: string };
  errProxy: { pool: string; version: string; kind: string };
  pool: { pool: string };
}

function poolLabels(cfg: PoolConfig): PoolLabels {
  const pv = { pool: cfg.name, version: cfg.version };
  return {
    pv,
    code: [0, 1, 2, 3, 4, 5].map((c) => ({ ...pv, code: `${c}xx` })),
    err5xx: { ...pv, kind: '5xx' },
    errProxy: { ...pv, kind: 'proxy' },
    pool: { pool: cfg.name },
  };
}

/** One immutable routing table; requests take a reference and never see a half-applied change. */
interface Live {
  state: RouterConfigState;
  pools: LivePool[];
  /** `host:port` → connect options, parsed once per config rather than per request. */
  upstreams: Map<string, { hostname: string; port: number }>;
}

const MAX_WINDOW_MS = 15 * 60_000;
const RETRIABLE_FRESH = new Set([
  'ECONNREFUSED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EADDRNOTAVAIL',
  'ETIMEDOUT',
]);

// Hop-by-hop headers (RFC 9110 §7.6.1) describe one connection, not the message: the router keeps its
// own keep-alive with each side, so a client's `Connection: close` must not close an upstream socket.
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade']);
const X_FORWARDED = new Set(['x-forwarded-for', 'x-forwarded-port', 'x-forwarded-proto', 'x-forwarded-host']);
// Paths that the URL parser would return unchanged (no dot segments, nothing to percent-encode);
// anything else is normalised as before, through `new URL`.
const PLAIN_PATH = /^\/(?!\/)[\w\-/?=&%+,;:@~!$*()]*$/;

function upstreamPath(url: string): string {
  if (PLAIN_PATH.test(url) && !url.endsWith('?')) return url;
  const u = new URL(url.startsWith('//') ? `http://base.invalid${url}` : url, 'http://base.invalid');
  return `${u.pathname}${u.search}`;
}

/** Request headers for the upstream as a flat [name, value, …] list, which `http.request` writes as is. */
function upstreamHeaders(req: IncomingMessage, fallbackHost: string): string[] {
  const raw = req.rawHeaders;
  const out: string[] = [];
  let host = false;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string;
    const lower = name.toLowerCase();
    // transfer-encoding is kept on requests: a chunked body is streamed through as chunked.
    if (lower === 'trailer' || X_FORWARDED.has(lower)) continue;
    if (HOP_BY_HOP.has(lower) && lower !== 'transfer-encoding') continue;
    if (lower === 'host') host = true;
    out.push(name, raw[i + 1] as string);
  }
  if (!host) out.push('host', fallbackHost);
  const h = req.headers;
  const xf = (name: string, value: string) => {
    const prev = h[name] as string | undefined;
    out.push(name, prev ? `${prev},${value}` : value);
  };
  xf('x-forwarded-for', req.socket.remoteAddress ?? '');
  xf('x-forwarded-port', /:(\d+)/.exec(h.host ?? '')?.[1] ?? '80');
  xf('x-forwarded-proto', 'http');
  out.push('x-forwarded-host', (h['x-forwarded-host'] as string | undefined) || h.host || '');
  return out;
}

function hashSecret(s: string) {
  return createHash('sha256').update(s).digest();
}

export function createTrafficRouter(options: TrafficRouterOptions): TrafficRouter {
  if (!options.secret || options.secret.length < 16)
    throw new Error('router secret must be at least 16 characters');
  const host = options.host ?? '127.0.0.1';
  const targetDownMs = options.targetDownMs ?? 2_000;
  const maxReplay = options.maxReplayBodyBytes ?? 1024 * 1024;
  const log = options.log ?? (() => {});
  const secretHash = hashSecret(options.secret);

  const registry = new Registry();
  const mRequests = new Counter({
    name: 'qubot_router_requests_total',
    help: 'Requests answered by the traffic router, by pool, version and status class',
    labelNames: ['pool', 'version', 'code'] as const,
    registers: [registry],
  });
  const mErrors = new Counter({
    name: 'qubot_router_errors_total',
    help: 'Failed requests by pool: 5xx from the upstream, or a proxy error',
    labelNames: ['pool', 'version', 'kind'] as const,
    registers: [registry],
  });
  const mRetries = new Counter({
    name: 'qubot_router_retries_total',
    help: 'Requests retried on another target after a connection failure',
    labelNames: ['pool'] as const,
    registers: [registry],
  });
  const mDuration = new Histogram({
    name: 'qubot_router_request_duration_seconds',
    help: 'Request latency through the router',
    labelNames: ['pool', 'version'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const mWeight = new Gauge({
    name: 'qubot_router_pool_weight',
    help: 'Configured weight per pool',
    labelNames: ['pool', 'version'] as const,
    registers: [registry],
  });
  const mRevision = new Gauge({
    name: 'qubot_router_config_revision',
    help: 'Revision of the routing config in force',
    registers: [registry],
  });
  new Gauge({
    name: 'qubot_router_in_flight',
    help: 'Requests being proxied, by pool',
    labelNames: ['pool'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const s of stats.values()) this.set({ pool: s.pool }, s.inFlight);
    },
  });

  const stats = new Map<string, PoolStats>();
  const targetInFlight = new Map<string, number>();
  const downUntil = new Map<string, number>();

  const build = (state: RouterConfigState): Live => {
    const upstreams = new Map<string, { hostname: string; port: number }>();
    for (const p of state.pools) {
      for (const t of p.targets) {
        const parsed = parseTarget(t);
        if (!parsed) continue;
        // IPv6 targets are written `[::1]:port`; the socket wants the bare address.
        const hostname = parsed.host.startsWith('[') ? parsed.host.slice(1, -1) : parsed.host;
        upstreams.set(t, { hostname, port: parsed.port });
      }
    }
    return {
      state,
      pools: state.pools.map((cfg) => ({ cfg, current: 0, rr: 0, labels: poolLabels(cfg) })),
      upstreams,
    };
  };

  let live = build({ pools: [], revision: 0, updatedAt: new Date().toISOString() });

  const applyState = (state: RouterConfigState) => {
    for (const p of state.pools) {
      const s = stats.get(p.name);
      if (!s) stats.set(p.name, new PoolStats(p.name, p.version));
      else if (s.version !== p.version) {
        // A pool's figures describe the version it runs: analysis must not mix in the old one.
        s.reset();
        s.version = p.version;
      }
    }
    mWeight.reset();
    for (const p of state.pools) mWeight.set({ pool: p.name, version: p.version }, p.weight);
    mRevision.set(state.revision);
    // The atomic switch: new requests see the new table; in-flight ones keep their upstream.
    live = build(state);
  };

  if (options.stateFile) {
    try {
      const saved = JSON.parse(readFileSync(options.stateFile, 'utf8')) as RouterConfigState;
      const cfg = validateRouterConfig({ pools: saved.pools });
      applyState({ ...cfg, revision: Number(saved.revision) || 0, updatedAt: String(saved.updatedAt) });
      log('restored config', { revision: saved.revision, pools: cfg.pools.length });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
        log('ignoring unreadable state file', { error: String(err) });
    }
  }

  const persist = (state: RouterConfigState) => {
    if (!options.stateFile) return;
    mkdirSync(dirname(options.stateFile), { recursive: true });
    const tmp = `${options.stateFile}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(state, null, 2));
    renameSync(tmp, options.stateFile);
  };

  const setConfig = (config: RouterConfig): RouterConfigState => {
    const cfg = validateRouterConfig(config);
    const state: RouterConfigState = {
      ...cfg,
      revision: live.state.revision + 1,
      updatedAt: new Date().toISOString(),
    };
    persist(state);
    applyState(state);
    log('config applied', {
      revision: state.revision,
      pools: state.pools.map((p) => [p.name, p.version, p.weight]),
    });
    return state;
  };

  /** Smooth weighted round-robin (as in nginx): exact proportions, evenly interleaved. */
  const pickPool = (table: Live): LivePool | null => {
    let total = 0;
    let best: LivePool | null = null;
    for (const p of table.pools) {
      if (p.cfg.weight <= 0 || p.cfg.targets.length === 0) continue;
      p.current += p.cfg.weight;
      total += p.cfg.weight;
      if (!best || p.current > best.current) best = p;
    }
    if (best) best.current -= total;
    return best;
  };

  const pickTarget = (pool: LivePool, exclude: Set<string>): string | null => {
    const n = pool.cfg.targets.length;
    const now = Date.now();
    let fallback: string | null = null;
    for (let k = 0; k < n; k++) {
      const t = pool.cfg.targets[(pool.rr + k) % n] as string;
      if (exclude.has(t)) continue;
      if ((downUntil.get(t) ?? 0) > now) {
        fallback ??= t;
        continue;
      }
      pool.rr = (pool.rr + k + 1) % n;
      return t;
    }
    return fallback;
  };

  const connectTimeoutMs = options.connectTimeoutMs ?? 2_000;
  const proxyTimeoutMs = options.proxyTimeoutMs ?? 60_000;
  // One keep-alive pool per upstream (the agent keys sockets by host:port). LIFO reuses the
  // warmest socket, so idle ones expire instead of all staying half-used.
  const agent = new Agent({ keepAlive: true, maxFreeSockets: 256, scheduling: 'lifo', noDelay: true });

  // Only a connect in progress is timed out here; a reused socket is already connected.
  const armConnectTimeout = (socket: Socket) => {
    if (!socket.connecting) return;
    const timer = setTimeout(() => {
      const error = new Error('ECONNECT_TIMEOUT') as NodeJS.ErrnoException;
      error.code = 'ECONNECT_TIMEOUT';
      socket.destroy(error);
    }, connectTimeoutMs);
    timer.unref();
    const clear = () => clearTimeout(timer);
    socket.once('connect', clear);
    socket.once('close', clear);
  };

  const bump = (target: string, delta: number) => {
    const n = (targetInFlight.get(target) ?? 0) + delta;
    if (n <= 0) targetInFlight.delete(target);
    else targetInFlight.set(target, n);
  };

  let activeRequests = 0;

  const handleTraffic = (req: IncomingMessage, res: ServerResponse, body: Buffer | null) => {
    const started = performance.now();
    const table = live;
    const first = pickPool(table);
    if (!first) {
      res.statusCode = 503;
      res.setHeader('content-type', 'application/json');
      res.setHeader('x-qubot-pool', 'none');
      res.end(JSON.stringify({ error: { code: 'NO_UPSTREAM', message: 'no pool is receiving traffic' } }));
      return;
    }
    let pool = first;
    let poolStats = stats.get(pool.cfg.name) as PoolStats;
    const tried = new Set<string>();
    let target = pickTarget(pool, tried) as string;
    let proxyError = false;
    let retried = false;
    let closed = false;
    let current: ClientRequest | null = null;
    // Built once: a retry sends the same request, not one with the forwarding headers added twice.
    const headers = upstreamHeaders(req, target);
    let path: string;
    try {
      path = upstreamPath(req.url ?? '/');
    } catch {
      path = '/';
    }
    activeRequests++;
    poolStats.inFlight++;
    bump(target, 1);

    res.once('close', () => {
      closed = true;
      activeRequests--;
      poolStats.inFlight--;
      bump(target, -1);
      const ms = performance.now() - started;
      if (!res.writableFinished && !proxyError) {
        // The client went away; not the pool's fault. Stop the upstream exchange too.
        current?.destroy();
        return;
      }
      const status = res.statusCode;
      const isError = proxyError || status >= 500;
      poolStats.record(ms, isError);
      const l = pool.labels;
      const cls = Math.floor(status / 100);
      mRequests.inc(l.code[cls] ?? { ...l.pv, code: `${cls}xx` });
      mDuration.observe(l.pv, ms / 1000);
      if (isError) mErrors.inc(proxyError ? l.errProxy : l.err5xx);
    });

    const fail = (err: NodeJS.ErrnoException, proxyReq: ClientRequest) => {
      if (proxyReq !== current || closed) return;
      const code = err.code ?? '';
      if (code === 'ECONNREFUSED') downUntil.set(target, Date.now() + targetDownMs);
      // Safe to resend: the upstream never got the request (refused), or a kept-alive socket
      // was closed under us before any answer (Node's documented case for retrying).
      const neverReached = RETRIABLE_FRESH.has(code) || (proxyReq.reusedSocket && code === 'ECONNRESET');
      if (!res.headersSent && !retried && body !== null && neverReached) {
        const next = alternative(table, pool, tried);
        if (next) {
          retried = true;
          poolStats.totalRetries++;
          mRetries.inc(pool.labels.pool);
          bump(target, -1);
          if (next.pool !== pool) {
            poolStats.inFlight--;
            pool = next.pool;
            poolStats = stats.get(pool.cfg.name) as PoolStats;
            poolStats.inFlight++;
          }
          target = next.target;
          bump(target, 1);
          log('retrying on another target', { code, target });
          attempt();
          return;
        }
      }
      badGateway();
    };

    const badGateway = () => {
      proxyError = true;
      if (res.headersSent) {
        res.destroy();
        return;
      }
      res.statusCode = 502;
      res.setHeader('content-type', 'application/json');
      res.setHeader('x-qubot-pool', pool.cfg.name);
      res.end(JSON.stringify({ error: { code: 'BAD_GATEWAY', message: 'upstream unavailable' } }));
    };

    const respond = (proxyRes: IncomingMessage) => {
      if (closed || res.headersSent) {
        proxyRes.resume();
        return;
      }
      const raw = proxyRes.rawHeaders;
      const out: string[] = [];
      for (let i = 0; i < raw.length; i += 2) {
        const name = raw[i] as string;
        const lower = name.toLowerCase();
        if (HOP_BY_HOP.has(lower) || lower === 'x-qubot-pool') continue;
        out.push(name, raw[i + 1] as string);
      }
      out.push('x-qubot-pool', pool.cfg.name);
      // A flat header list on a response without setHeader() calls is written as is (fast path).
      res.writeHead(proxyRes.statusCode ?? 502, proxyRes.statusMessage, out);
      // The upstream dying mid-body is the pool's failure: cut the client's response short too.
      proxyRes.once('error', () => {
        if (closed) return;
        proxyError = true;
        res.destroy();
      });
      proxyRes.pipe(res);
    };

    const attempt = () => {
      tried.add(target);
      const up = table.upstreams.get(target) as { hostname: string; port: number };
      let proxyReq: ClientRequest;
      try {
        proxyReq = request({
          agent,
          hostname: up.hostname,
          port: up.port,
          method: req.method,
          path,
          headers,
          timeout: proxyTimeoutMs,
        });
      } catch (err) {
        // e.g. a header value Node refuses to send; nothing reached any upstream.
        log('cannot build upstream request', { error: String(err) });
        badGateway();
        return;
      }
      current = proxyReq;
      proxyReq.once('socket', armConnectTimeout);
      // Its own code: the request was sent, so a timed-out one must not count as never reached.
      proxyReq.once('timeout', () =>
        proxyReq.destroy(Object.assign(new Error('upstream timed out'), { code: 'UPSTREAM_TIMEOUT' })),
      );
      proxyReq.on('error', (err) => fail(err, proxyReq));
      proxyReq.once('response', respond);
      if (body === null) {
        req.pipe(proxyReq);
        req.once('error', () => proxyReq.destroy());
      } else if (body.length > 0) proxyReq.end(body);
      else proxyReq.end();
    };
    attempt();
  };

  const alternative = (table: Live, pool: LivePool, tried: Set<string>) => {
    const same = pickTarget(pool, tried);
    if (same) return { pool, target: same };
    const others = table.pools
      .filter((p) => p !== pool && p.cfg.weight > 0 && p.cfg.targets.length > 0)
      .sort((a, b) => b.cfg.weight - a.cfg.weight);
    for (const p of others) {
      const t = pickTarget(p, tried);
      if (t) return { pool: p, target: t };
    }
    return null;
  };

  const traffic: Server = createServer((req, res) => {
    const length = Number(req.headers['content-length'] ?? 0);
    const chunked = req.headers['transfer-encoding'] !== undefined;
    if (!chunked && length === 0) {
      handleTraffic(req, res, Buffer.alloc(0));
      return;
    }
    if (chunked || length > maxReplay) {
      // Too big to keep a copy: stream it through, without the retry safety net.
      handleTraffic(req, res, null);
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.once('end', () => handleTraffic(req, res, Buffer.concat(chunks)));
    req.once('error', () => res.destroy());
  });

  // ---- control API -------------------------------------------------------

  const sendJson = (res: ServerResponse, status: number, body: unknown) => {
    res.statusCode = status;
    res.setHeader('content-type', 'application/json; charset=utf-8');
    res.setHeader('cache-control', 'no-store');
    res.end(JSON.stringify(body));
  };
  const sendError = (res: ServerResponse, status: number, code: string, message: string, details?: unknown) =>
    sendJson(res, status, { error: { code, message, details: details ?? null } });

  const authorized = (req: IncomingMessage) => {
    const header = req.headers.authorization ?? '';
    if (!header.startsWith('Bearer ')) return false;
    return timingSafeEqual(hashSecret(header.slice(7)), secretHash);
  };

  const readJson = (req: IncomingMessage, limit = 64 * 1024) =>
    new Promise<unknown>((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      req.on('data', (c: Buffer) => {
        size += c.length;
        if (size > limit) {
          reject(new ConfigValidationError('body', `larger than ${limit} bytes`));
          req.destroy();
          return;
        }
        chunks.push(c);
      });
      req.once('end', () => {
        try {
          resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
        } catch {
          reject(new ConfigValidationError('body', 'invalid JSON'));
        }
      });
      req.once('error', reject);
    });

  const inFlight = () => ({ total: activeRequests, targets: Object.fromEntries(targetInFlight) });

  const allStats = (windowMs: number) => [...stats.values()].map((s) => s.window(windowMs));

  const handleControl = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://control');
    const route = `${req.method} ${url.pathname}`;
    if (route === 'GET /healthz') {
      sendJson(res, 200, { status: 'ok', pid: process.pid, revision: live.state.revision });
      return;
    }
    if (route === 'GET /metrics') {
      res.setHeader('content-type', registry.contentType);
      res.end(await registry.metrics());
      return;
    }
    if (!authorized(req)) {
      res.setHeader('www-authenticate', 'Bearer');
      sendError(res, 401, 'UNAUTHORIZED', 'missing or wrong bearer token');
      return;
    }
    switch (route) {
      case 'GET /config':
        sendJson(res, 200, live.state);
        return;
      case 'PUT /config': {
        try {
          sendJson(res, 200, setConfig((await readJson(req)) as RouterConfig));
        } catch (err) {
          if (err instanceof ConfigValidationError) {
            sendError(res, 400, 'INVALID_CONFIG', err.message, { field: err.field });
          } else throw err;
        }
        return;
      }
      case 'GET /stats': {
        const windowMs = Number(url.searchParams.get('windowMs') ?? 60_000);
        if (!Number.isInteger(windowMs) || windowMs < 1 || windowMs > MAX_WINDOW_MS) {
          sendError(res, 400, 'INVALID_QUERY', `windowMs must be an integer in 1..${MAX_WINDOW_MS}`, {
            field: 'windowMs',
          });
          return;
        }
        const pool = url.searchParams.get('pool');
        if (pool === null) {
          sendJson(res, 200, { windowMs, pools: allStats(windowMs) });
          return;
        }
        const s = stats.get(pool);
        if (!s) sendError(res, 404, 'UNKNOWN_POOL', `no figures for pool ${pool}`, { field: 'pool' });
        else sendJson(res, 200, s.window(windowMs));
        return;
      }
      case 'POST /stats/reset': {
        const pool = url.searchParams.get('pool');
        for (const s of stats.values()) if (pool === null || s.pool === pool) s.reset();
        sendJson(res, 200, { reset: pool ?? 'all' });
        return;
      }
      case 'GET /inflight':
        sendJson(res, 200, inFlight());
        return;
      default:
        sendError(res, 404, 'NOT_FOUND', `no route ${route}`);
    }
  };

  const control: Server = createServer((req, res) => {
    handleControl(req, res).catch((err: unknown) => {
      log('control request failed', { error: String(err) });
      if (!res.headersSent) sendError(res, 500, 'INTERNAL', 'internal error');
      else res.destroy();
    });
  });

  const listenOn = (server: Server, port: number, iface: string) =>
    new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, iface, () => {
        server.off('error', reject);
        resolve((server.address() as AddressInfo).port);
      });
    });

  return {
    registry,
    getConfig: () => live.state,
    setConfig,
    stats: (pool, windowMs) => stats.get(pool)?.window(windowMs) ?? null,
    allStats,
    inFlight,
    async listen() {
      const controlPort = await listenOn(control, options.controlPort, '127.0.0.1');
      const port = await listenOn(traffic, options.port, host);
      return { port, controlPort };
    },
    async close() {
      const drained = new Promise<void>((resolve) => {
        traffic.close(() => resolve());
        traffic.closeIdleConnections();
      });
      const deadline = new Promise<void>((resolve) =>
        setTimeout(resolve, options.drainTimeoutMs ?? 15_000).unref(),
      );
      await Promise.race([drained, deadline]);
      traffic.closeAllConnections();
      await new Promise<void>((resolve) => {
        control.close(() => resolve());
        control.closeAllConnections();
      });
      agent.destroy();
    },
  };
}
