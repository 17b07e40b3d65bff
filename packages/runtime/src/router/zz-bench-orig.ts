import { createHash, timingSafeEqual } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import {
  Agent,
  type ClientRequest,
  createServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname } from 'node:path';
import { Readable } from 'node:stream';
import { createProxyServer } from 'http-proxy-3';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import {
  ConfigValidationError,
  type PoolConfig,
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
}

/** One immutable routing table; requests take a reference and never see a half-applied change. */
interface Live {
  state: RouterConfigState;
  pools: LivePool[];
}

const MAX_WINDOW_MS = 15 * 60_000;
const RETRIABLE_FRESH = new Set([
  'ECONNREFUSED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EADDRNOTAVAIL',
  'ETIMEDOUT',
]);

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

  const build = (state: RouterConfigState): Live => ({
    state,
    pools: state.pools.map((cfg) => ({ cfg, current: 0, rr: 0 })),
  });

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

  const proxy = createProxyServer({
    agent: new Agent({ keepAlive: true, maxFreeSockets: 256 }),
    xfwd: true,
    connectTimeout: options.connectTimeoutMs ?? 2_000,
    proxyTimeout: options.proxyTimeoutMs ?? 60_000,
  });
  const proxyReqOf = new WeakMap<ServerResponse, ClientRequest>();
  proxy.on('proxyReq', (proxyReq: ClientRequest, _req: IncomingMessage, res: ServerResponse) => {
    proxyReqOf.set(res, proxyReq);
  });
  // Errors are handled per call; this keeps http-proxy-3 from throwing on stray ones.
  proxy.on('error', () => {});

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
    activeRequests++;
    poolStats.inFlight++;
    bump(target, 1);

    res.once('close', () => {
      activeRequests--;
      poolStats.inFlight--;
      bump(target, -1);
      const ms = performance.now() - started;
      if (!res.writableFinished && !proxyError) return; // the client went away; not the pool's fault
      const status = res.statusCode;
      const isError = proxyError || status >= 500;
      poolStats.record(ms, isError);
      const version = pool.cfg.version;
      mRequests.inc({ pool: pool.cfg.name, version, code: `${Math.floor(status / 100)}xx` });
      mDuration.observe({ pool: pool.cfg.name, version }, ms / 1000);
      if (isError) mErrors.inc({ pool: pool.cfg.name, version, kind: proxyError ? 'proxy' : '5xx' });
    });

    const attempt = () => {
      tried.add(target);
      res.setHeader('x-qubot-pool', pool.cfg.name);
      proxy.web(
        req,
        res,
        {
          target: `http://${target}`,
          ...(body ? { buffer: Readable.from(body.length > 0 ? [body] : []) } : {}),
        },
        (err: Error & { code?: string }) => {
          const proxyReq = proxyReqOf.get(res);
          const code = err.code ?? '';
          if (code === 'ECONNREFUSED') downUntil.set(target, Date.now() + targetDownMs);
          // Safe to resend: the upstream never got the request (refused), or a kept-alive socket
          // was closed under us before any answer (Node's documented case for retrying).
          const neverReached =
            RETRIABLE_FRESH.has(code) || (proxyReq?.reusedSocket === true && code === 'ECONNRESET');
          if (!res.headersSent && !retried && body !== null && neverReached) {
            const next = alternative(table, pool, tried);
            if (next) {
              retried = true;
              poolStats.totalRetries++;
              mRetries.inc({ pool: pool.cfg.name });
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
          proxyError = true;
          if (res.headersSent) {
            res.destroy();
            return;
          }
          res.statusCode = 502;
          res.setHeader('content-type', 'application/json');
          res.end(JSON.stringify({ error: { code: 'BAD_GATEWAY', message: 'upstream unavailable' } }));
        },
      );
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
      proxy.close();
    },
  };
}
