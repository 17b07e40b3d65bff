import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { QubotOneConfig } from './config';

export const SERVICE_NAME = 'qubot-one';

export interface QubotOneServer {
  server: Server;
  registry: Registry;
  /** Resolves with the bound port. */
  listen(): Promise<number>;
  /** Stops accepting, lets in-flight requests finish, then resolves (or after the shutdown timeout). */
  shutdown(): Promise<void>;
  readonly inFlight: number;
}

export interface QubotOneDeps {
  /** Injected so tests can make the error-rate fault deterministic. */
  random?: () => number;
  startedAt?: Date;
}

export function createQubotOne(config: QubotOneConfig, deps: QubotOneDeps = {}): QubotOneServer {
  const random = deps.random ?? Math.random;
  const startedAt = deps.startedAt ?? new Date();
  const registry = new Registry();
  registry.setDefaultLabels({ service: SERVICE_NAME, pool: config.pool, instance: config.instanceId });
  const requests = new Counter({
    name: 'qubot_one_http_requests_total',
    help: 'HTTP requests handled, by route and status code',
    labelNames: ['route', 'status'] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'qubot_one_http_request_duration_seconds',
    help: 'HTTP request duration',
    labelNames: ['route'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  new Gauge({
    name: 'qubot_one_info',
    help: 'Constant 1, labelled with the running version',
    labelNames: ['version'] as const,
    registers: [registry],
  }).set({ version: config.version }, 1);

  let shuttingDown = false;
  let inFlight = 0;

  const send = (res: ServerResponse, status: number, body: unknown) => {
    res.statusCode = status;
    res.setHeader('content-type', 'application/json; charset=utf-8');
    res.end(JSON.stringify(body));
  };

  const identity = () => ({
    service: SERVICE_NAME,
    version: config.version,
    pool: config.pool,
    color: config.pool,
    instanceId: config.instanceId,
  });

  const routeOf = (req: IncomingMessage): string => {
    const path = (req.url ?? '/').split('?', 1)[0] ?? '/';
    return ['/', '/healthz', '/metrics'].includes(path) ? path : 'other';
  };

  const handle = async (req: IncomingMessage, res: ServerResponse, path: string): Promise<void> => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      send(res, 405, { ...identity(), error: 'method not allowed' });
      return;
    }
    if (path === '/healthz') {
      if (config.faults.neverHealthy || shuttingDown) {
        send(res, 503, { ...identity(), status: shuttingDown ? 'shutting-down' : 'unhealthy' });
      } else {
        send(res, 200, { ...identity(), status: 'ok', inFlight: inFlight - 1 });
      }
      return;
    }
    if (path === '/metrics') {
      res.setHeader('content-type', registry.contentType);
      res.end(await registry.metrics());
      return;
    }
    if (path === '/') {
      if (config.faults.latencyMs > 0) await new Promise((r) => setTimeout(r, config.faults.latencyMs));
      if (config.faults.errorRate > 0 && random() < config.faults.errorRate) {
        send(res, 500, { ...identity(), error: 'injected fault' });
      } else {
        send(res, 200, {
          ...identity(),
          message: 'Hello from Qubot-One',
          startedAt: startedAt.toISOString(),
        });
      }
      return;
    }
    send(res, 404, { ...identity(), error: 'not found' });
  };

  const server = createServer((req, res) => {
    inFlight++;
    const end = duration.startTimer();
    res.setHeader('x-qubot-version', config.version);
    res.setHeader('x-qubot-instance', config.instanceId);
    // Tell keep-alive clients (such as the traffic router) to open a new connection elsewhere.
    if (shuttingDown) res.setHeader('connection', 'close');
    const route = routeOf(req);
    res.on('close', () => {
      inFlight--;
      requests.inc({ route, status: String(res.statusCode) });
      end({ route });
      // Connections that were busy when shutdown began become idle now; close them so the drain ends.
      if (shuttingDown) setImmediate(() => server.closeIdleConnections());
    });
    handle(req, res, route).catch((err: unknown) => {
      if (!res.headersSent) send(res, 500, { ...identity(), error: 'internal error' });
      else res.destroy();
      console.error('request failed', err);
    });
  });
  // Longer than the router's idle keep-alive, so the proxy closes idle sockets first.
  server.keepAliveTimeout = 65_000;

  let shutdownPromise: Promise<void> | null = null;

  return {
    server,
    registry,
    get inFlight() {
      return inFlight;
    },
    listen: () =>
      new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(config.port, config.host, () => {
          server.off('error', reject);
          resolve((server.address() as AddressInfo).port);
        });
      }),
    shutdown: () => {
      shutdownPromise ??= new Promise<void>((resolve) => {
        shuttingDown = true;
        const timer = setTimeout(() => {
          server.closeAllConnections();
          resolve();
        }, config.shutdownTimeoutMs);
        timer.unref();
        server.close(() => {
          clearTimeout(timer);
          resolve();
        });
        server.closeIdleConnections();
      });
      return shutdownPromise;
    },
  };
}
