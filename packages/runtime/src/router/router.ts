import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname } from 'node:path';
import { Gauge, type Metric, Registry } from 'prom-client';
import { parseTarget, type RouterConfig, type RouterConfigState, validateRouterConfig } from './config.ts';
import { createControlServer } from './control.ts';
import {
  Exchange,
  type ExchangeHost,
  type Live,
  type LivePool,
  type Upstream,
  UpstreamPools,
} from './proxy.ts';
import { PoolMetrics, PoolStats, type PoolWindowStats, requestMetrics } from './stats.ts';

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
  /** Upstream response timeout (for the headers, then between body chunks); default 60 s. */
  proxyTimeoutMs?: number;
  /** Request bodies up to this size are buffered so the request can be retried; default 1 MiB. */
  maxReplayBodyBytes?: number;
  /** On close, how long in-flight requests may take; default 15 s. */
  drainTimeoutMs?: number;
  /**
   * While the traffic port is taken, keep trying to bind it for this long (ms) instead of failing:
   * a router started to take over from another process binds the moment that one lets go.
   */
  bindRetryMs?: number;
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

const NO_UPSTREAM = '{"error":{"code":"NO_UPSTREAM","message":"no pool is receiving traffic"}}';
const EMPTY = Buffer.alloc(0);

export function createTrafficRouter(options: TrafficRouterOptions): TrafficRouter {
  if (!options.secret || options.secret.length < 16)
    throw new Error('router secret must be at least 16 characters');
  const host = options.host ?? '127.0.0.1';
  const targetDownMs = options.targetDownMs ?? 2_000;
  const maxReplay = options.maxReplayBodyBytes ?? 1024 * 1024;
  const log = options.log ?? (() => {});

  const stats = new Map<string, PoolStats>();
  /** Counters per (pool, version), kept across configs: Prometheus counters never go back. */
  const metrics = new Map<string, PoolMetrics>();
  const retries = new Map<string, number>();
  const targetInFlight = new Map<string, number>();
  const downUntil = new Map<string, number>();

  const registry = new Registry();
  for (const m of requestMetrics(
    () => metrics.values(),
    () => retries,
  ))
    registry.registerMetric(m as unknown as Metric);
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

  const metricsFor = (pool: string, version: string) => {
    const key = `${pool}\n${version}`;
    let m = metrics.get(key);
    if (!m) {
      m = new PoolMetrics(pool, version);
      metrics.set(key, m);
    }
    return m;
  };

  const build = (state: RouterConfigState): Live => {
    const upstreams = new Map<string, Upstream>();
    for (const p of state.pools) {
      for (const t of p.targets) {
        const parsed = parseTarget(t);
        // IPv6 targets are written `[::1]:port`, which is also how an origin spells them.
        if (parsed) upstreams.set(t, { origin: `http://${parsed.host}:${parsed.port}` });
      }
    }
    return {
      state,
      pools: state.pools.map((cfg) => ({
        cfg,
        current: 0,
        rr: 0,
        stats: stats.get(cfg.name) as PoolStats,
        metrics: metricsFor(cfg.name, cfg.version),
      })),
      upstreams,
    };
  };

  const connectTimeoutMs = options.connectTimeoutMs ?? 2_000;
  const proxyTimeoutMs = options.proxyTimeoutMs ?? 60_000;
  const exchangeOptions = { headersTimeout: proxyTimeoutMs, bodyTimeout: proxyTimeoutMs };
  // One keep-alive connection pool per upstream target.
  const upstreamPools = new UpstreamPools({ connectTimeoutMs });

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
    // Connections to targets that left the config close once their last request is done.
    upstreamPools.retain(new Set(live.upstreams.keys()));
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

  const pickTarget = (pool: LivePool, exclude: readonly string[]): string | null => {
    const targets = pool.cfg.targets;
    const n = targets.length;
    const now = downUntil.size > 0 ? Date.now() : 0;
    let fallback: string | null = null;
    for (let k = 0; k < n; k++) {
      const t = targets[(pool.rr + k) % n] as string;
      if (exclude.length > 0 && exclude.includes(t)) continue;
      if (now > 0 && (downUntil.get(t) ?? 0) > now) {
        fallback ??= t;
        continue;
      }
      pool.rr = (pool.rr + k + 1) % n;
      return t;
    }
    return fallback;
  };

  const alternative = (table: Live, pool: LivePool, tried: readonly string[]) => {
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

  let activeRequests = 0;

  const exchangeHost: ExchangeHost = {
    dispatcher: (target, upstream) => upstreamPools.get(target, upstream),
    pickTarget,
    alternative,
    bump(target, delta) {
      const n = (targetInFlight.get(target) ?? 0) + delta;
      if (n <= 0) targetInFlight.delete(target);
      else targetInFlight.set(target, n);
    },
    markDown(target) {
      downUntil.set(target, Date.now() + targetDownMs);
    },
    retried(pool) {
      pool.stats.totalRetries++;
      retries.set(pool.cfg.name, (retries.get(pool.cfg.name) ?? 0) + 1);
    },
    finished() {
      activeRequests--;
    },
    log,
  };

  const NO_EXCLUDE: readonly string[] = [];
  const handleTraffic = (req: IncomingMessage, res: ServerResponse, body: Buffer | null) => {
    const table = live;
    const pool = pickPool(table);
    if (!pool) {
      res.writeHead(503, ['content-type', 'application/json', 'x-qubot-pool', 'none']);
      res.end(NO_UPSTREAM);
      return;
    }
    activeRequests++;
    const target = pickTarget(pool, NO_EXCLUDE) as string;
    new Exchange(exchangeHost, exchangeOptions, req, res, body, table, pool, target).start();
  };

  const traffic: Server = createServer((req, res) => {
    const h = req.headers;
    const chunked = h['transfer-encoding'] !== undefined;
    const cl = h['content-length'];
    if (!chunked && (cl === undefined || cl === '0')) {
      handleTraffic(req, res, EMPTY);
      return;
    }
    const length = Number(cl ?? 0);
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

  const inFlight = () => ({ total: activeRequests, targets: Object.fromEntries(targetInFlight) });

  const allStats = (windowMs: number) => [...stats.values()].map((s) => s.window(windowMs));
  const poolStats = (pool: string, windowMs: number) => stats.get(pool)?.window(windowMs) ?? null;

  // Idle client connections stay open longer than clients keep them (65 s, as the instances and
  // common load balancers do), so the client always closes first. With Node's 5 s default a request
  // sent just as the router closed an idle connection was reset (ECONNRESET) — the failed request
  // after a control-plane restart, when the busy machine made a client late to close its side.
  traffic.keepAliveTimeout = 65_000;
  traffic.headersTimeout = 66_000;

  let closing = false;
  const control: Server = createControlServer({
    secret: options.secret,
    registry,
    state: () => live.state,
    setConfig,
    stats: poolStats,
    allStats,
    resetStats(pool) {
      for (const s of stats.values()) if (pool === null || s.pool === pool) s.reset();
    },
    inFlight,
    listening: () => traffic.listening,
    draining: () => closing,
    log,
  });

  const listenOn = (server: Server, port: number, iface: string, retryMs = 0) =>
    new Promise<number>((resolve, reject) => {
      const deadline = Date.now() + retryMs;
      const attempt = () => {
        const onError = (err: NodeJS.ErrnoException) => {
          server.off('listening', onListening);
          if (err.code === 'EADDRINUSE' && Date.now() < deadline) setTimeout(attempt, 2);
          else reject(err);
        };
        const onListening = () => {
          server.off('error', onError);
          resolve((server.address() as AddressInfo).port);
        };
        server.once('error', onError);
        server.once('listening', onListening);
        server.listen(port, iface);
      };
      attempt();
    });

  return {
    registry,
    getConfig: () => live.state,
    setConfig,
    stats: poolStats,
    allStats,
    inFlight,
    async listen() {
      const controlPort = await listenOn(control, options.controlPort, '127.0.0.1');
      const port = await listenOn(traffic, options.port, host, options.bindRetryMs ?? 0);
      return { port, controlPort };
    },
    async close() {
      closing = true;
      const drained = new Promise<void>((resolve) => {
        traffic.close(() => resolve());
        traffic.closeIdleConnections();
      });
      // A keep-alive connection that is busy now is idle between two requests: close it then, so a
      // client reusing connections cannot keep a stopping router alive for the whole drain time.
      const sweep = setInterval(() => traffic.closeIdleConnections(), 20);
      const deadline = new Promise<void>((resolve) =>
        setTimeout(resolve, options.drainTimeoutMs ?? 15_000).unref(),
      );
      await Promise.race([drained, deadline]);
      clearInterval(sweep);
      traffic.closeAllConnections();
      await new Promise<void>((resolve) => {
        control.close(() => resolve());
        control.closeAllConnections();
      });
      await upstreamPools.destroy();
    },
  };
}
