import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Registry } from 'prom-client';
import { ConfigValidationError, type RouterConfig, type RouterConfigState } from './config.ts';
import type { PoolWindowStats } from './stats.ts';

/** What the control API reads and changes of its router. */
export interface ControlTarget {
  secret: string;
  registry: Registry;
  state(): RouterConfigState;
  setConfig(config: RouterConfig): RouterConfigState;
  stats(pool: string, windowMs: number): PoolWindowStats | null;
  allStats(windowMs: number): PoolWindowStats[];
  resetStats(pool: string | null): void;
  inFlight(): { total: number; targets: Record<string, number> };
  /** The traffic port is bound (false while a router waits for the port to be freed). */
  listening?(): boolean;
  /** Stopping: the traffic port is closed for good and in-flight requests are finishing. */
  draining?(): boolean;
  log(msg: string, extra?: Record<string, unknown>): void;
}

const MAX_WINDOW_MS = 15 * 60_000;

interface Call {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
}
interface Route {
  /** Answered without the bearer token (liveness and Prometheus scrapes). */
  open?: true;
  handle(call: Call, target: ControlTarget): Promise<void> | void;
}

function sendJson(res: ServerResponse, status: number, body: unknown) {
  res.statusCode = status;
  res.setHeader('content-type', 'application/json; charset=utf-8');
  res.setHeader('cache-control', 'no-store');
  res.end(JSON.stringify(body));
}
function sendError(res: ServerResponse, status: number, code: string, message: string, details?: unknown) {
  sendJson(res, status, { error: { code, message, details: details ?? null } });
}

function readJson(req: IncomingMessage, limit = 64 * 1024) {
  return new Promise<unknown>((resolve, reject) => {
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
}

/** The control API: `METHOD /path` → its handler (router-client.ts is the caller). */
const ROUTES: Record<string, Route> = {
  'GET /healthz': {
    open: true,
    handle: ({ res }, t) =>
      sendJson(res, 200, {
        status: 'ok',
        pid: process.pid,
        revision: t.state().revision,
        listening: t.listening?.() ?? true,
        draining: t.draining?.() ?? false,
      }),
  },
  'GET /metrics': {
    open: true,
    async handle({ res }, t) {
      res.setHeader('content-type', t.registry.contentType);
      res.end(await t.registry.metrics());
    },
  },
  'GET /config': { handle: ({ res }, t) => sendJson(res, 200, t.state()) },
  'PUT /config': {
    async handle({ req, res }, t) {
      try {
        sendJson(res, 200, t.setConfig((await readJson(req)) as RouterConfig));
      } catch (err) {
        if (!(err instanceof ConfigValidationError)) throw err;
        sendError(res, 400, 'INVALID_CONFIG', err.message, { field: err.field });
      }
    },
  },
  'GET /stats': {
    handle({ res, url }, t) {
      const windowMs = Number(url.searchParams.get('windowMs') ?? 60_000);
      if (!Number.isInteger(windowMs) || windowMs < 1 || windowMs > MAX_WINDOW_MS) {
        sendError(res, 400, 'INVALID_QUERY', `windowMs must be an integer in 1..${MAX_WINDOW_MS}`, {
          field: 'windowMs',
        });
        return;
      }
      const pool = url.searchParams.get('pool');
      if (pool === null) {
        sendJson(res, 200, { windowMs, pools: t.allStats(windowMs) });
        return;
      }
      const s = t.stats(pool, windowMs);
      if (!s) sendError(res, 404, 'UNKNOWN_POOL', `no figures for pool ${pool}`, { field: 'pool' });
      else sendJson(res, 200, s);
    },
  },
  'POST /stats/reset': {
    handle({ res, url }, t) {
      const pool = url.searchParams.get('pool');
      t.resetStats(pool);
      sendJson(res, 200, { reset: pool ?? 'all' });
    },
  },
  'GET /inflight': { handle: ({ res }, t) => sendJson(res, 200, t.inFlight()) },
};

const hashSecret = (s: string) => createHash('sha256').update(s).digest();

/** The router's control API server (bound to 127.0.0.1 by the caller); bearer-token protected. */
export function createControlServer(target: ControlTarget): Server {
  const secretHash = hashSecret(target.secret);
  const authorized = (req: IncomingMessage) => {
    const header = req.headers.authorization ?? '';
    return header.startsWith('Bearer ') && timingSafeEqual(hashSecret(header.slice(7)), secretHash);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://control');
    const key = `${req.method} ${url.pathname}`;
    const route = ROUTES[key];
    if (!route?.open && !authorized(req)) {
      res.setHeader('www-authenticate', 'Bearer');
      sendError(res, 401, 'UNAUTHORIZED', 'missing or wrong bearer token');
      return;
    }
    if (!route) {
      sendError(res, 404, 'NOT_FOUND', `no route ${key}`);
      return;
    }
    await route.handle({ req, res, url }, target);
  };

  return createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      target.log('control request failed', { error: String(err) });
      if (!res.headersSent) sendError(res, 500, 'INTERNAL', 'internal error');
      else res.destroy();
    });
  });
}
