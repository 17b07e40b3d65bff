import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import rateLimit from '@fastify/rate-limit';
import { createDatabase, type Database, defaultDataDir } from '@qubot/db';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyReply,
  type FastifyRequest,
  LogController,
} from 'fastify';
import eventBus, { type EventStreamOptions } from './events/event-bus-plugin.ts';
import type { AccessLine, AccessLog } from './lib/access-log.ts';
import { AppError } from './lib/app-error.ts';
import { lazyChildLoggerFactory } from './lib/lazy-logger.ts';
import { validatorCompiler } from './lib/validation.ts';
import { createControlPlaneMetrics } from './metrics/control-plane-metrics.ts';
import observe, { type ObserveOptions } from './metrics/observe-plugin.ts';
import orchestrator, { type OrchestratorPluginOptions } from './orchestrator/plugin.ts';
import auth from './plugins/auth.ts';
import backups from './plugins/backups.ts';
import database from './plugins/database.ts';
import errorHandler, { frameworkErrors } from './plugins/error-handler.ts';
import metrics, { type MetricsAccess } from './plugins/metrics.ts';
import openapi from './plugins/openapi.ts';
import policies, { type PolicyPluginOptions } from './plugins/policies.ts';
import services from './plugins/services.ts';
import web from './plugins/web.ts';
import webhooks, { type WebhookPluginOptions } from './plugins/webhooks.ts';
import agentRouter from './routes/agent-router.ts';
import analysisProviderRouter from './routes/analysis-provider-router.ts';
import applicationAdminRouter from './routes/application-admin-router.ts';
import applicationRouter from './routes/application-router.ts';
import auditRouter from './routes/audit-router.ts';
import authRouter from './routes/auth-router.ts';
import backupRouter from './routes/backup-router.ts';
import configRouter from './routes/config-router.ts';
import deploymentCommandRouter from './routes/deployment-command-router.ts';
import deploymentObserveRouter from './routes/deployment-observe-router.ts';
import deploymentRouter from './routes/deployment-router.ts';
import driftHooksRouter from './routes/drift-hooks-router.ts';
import environmentActionRouter from './routes/environment-action-router.ts';
import environmentObserveRouter from './routes/environment-observe-router.ts';
import eventsRouter from './routes/events-router.ts';
import { buildSerialiser } from './routes/fast-serialiser.ts';
import freezeRouter from './routes/freeze-router.ts';
import healthRouter from './routes/health-router.ts';
import hostRouter from './routes/host-router.ts';
import monitoringRouter from './routes/monitoring-router.ts';
import policyRouter from './routes/policy-router.ts';
import releaseRouter from './routes/release-router.ts';
import resourcesRouter from './routes/resources-router.ts';
import runtimeTargetRouter from './routes/runtime-target-router.ts';
import scalingRouter from './routes/scaling-router.ts';
import syntheticLoadRouter from './routes/synthetic-load-router.ts';
import tokenRouter from './routes/token-router.ts';
import userRouter from './routes/user-router.ts';
import webhookRouter from './routes/webhook-router.ts';
import type { AuthOptions } from './services/auth-service.ts';
import { type BackupOptions, DEFAULT_BACKUP_OPTIONS } from './services/backup-service.ts';

export interface AppOptions {
  db: Database;
  /**
   * The deployment orchestrator. `worker: true` (roles `all` and `worker`) drives deployments in
   * this process; otherwise it only enqueues work. Default: enqueue only, runtime under `.qubot/`.
   */
  orchestrator?: Partial<OrchestratorPluginOptions>;
  /** Router sampling for the dashboard's live charts (docs/dashboard.md). */
  observe?: ObserveOptions;
  /** A pino logger (main.ts); tests run silent. */
  loggerInstance?: FastifyBaseLogger;
  /**
   * Where the one access line per request goes (main.ts: `createAccessLogger`, buffered). Default:
   * `loggerInstance`, without redaction.
   */
  accessLog?: AccessLog;
  /**
   * false: no read is served from the view cache (QUBOT_VIEW_CACHE=off). Default true. Tests that
   * count cache hits pass its time bounds (`maxAgeMs`, `localWriteMs`) so a slow machine cannot
   * move a read across them.
   */
  viewCache?: boolean | { maxAgeMs?: number; localWriteMs?: number };
  /** Directory of the built web app; defaults to apps/web/dist. */
  webDist?: string;
  /** Demo mode: GET /api/v1/auth/demo-users lists the demo accounts. */
  demo?: boolean;
  /** Mark cookies Secure even over plain HTTP (TLS terminated by a proxy in front). */
  secureCookies?: boolean;
  /** Who may scrape /metrics (default: loopback only). */
  metrics?: MetricsAccess;
  /** Sign-in attempts per client address per window (default 20 a minute). */
  loginRateLimit?: { max: number; timeWindowMs: number };
  /** Session lifetime and lockout settings (defaults in services/auth-service.ts). */
  auth?: Partial<AuthOptions>;
  /** Event stream limits and heartbeat (tests tighten them). */
  events?: EventStreamOptions;
  /**
   * Key for configuration secrets (32 bytes). Default: QUBOT_SECRET_KEY, else `secret.key` in the
   * data directory, generated on first use (docs/configuration.md).
   */
  secretKey?: Buffer;
  /**
   * Backups of this database (docs/backup.md): directory (default `<data dir>/backups`), retention,
   * schedule. `schedule` runs scheduled backups and restore drills (main.ts: worker processes; off
   * by default, so tests and benchmarks that build the app get none); one process of the cluster
   * acts at a time.
   */
  backups?: Partial<BackupOptions> & { schedule?: boolean; checkEveryMs?: number };
  /**
   * Promotion policies (docs/deployments.md): `run` evaluates them in this process (main.ts: worker
   * processes; off by default, so an app built by a test acts only when the test asks).
   */
  policies?: Partial<PolicyPluginOptions>;
  /**
   * Outgoing webhooks (docs/webhooks.md): timeouts, retries, the dashboard's public URL for links.
   * Deliveries run where the orchestrator's worker runs unless `worker` says otherwise.
   */
  webhooks?: Partial<WebhookPluginOptions>;
}

const TOOL_VERSION: string = (createRequire(import.meta.url)('../package.json') as { version: string })
  .version;

/**
 * The restore drill's last step: the API boots against the restored database and answers /readyz.
 * Nothing runs in the background (no worker, no sampler, no schedule).
 */
export async function bootCheck(url: string, secretKey?: Buffer): Promise<void> {
  const db = createDatabase(url, { max: 3 });
  try {
    const probe = await buildApp({
      db,
      orchestrator: { worker: false },
      observe: { sampleIntervalMs: 0 },
      backups: { schedule: false },
      ...(secretKey ? { secretKey } : {}),
    });
    try {
      await probe.ready();
      const res = await probe.inject({ method: 'GET', url: '/readyz' });
      if (res.statusCode !== 200)
        throw new Error(
          `the API did not become ready on the restored database: /readyz ${res.statusCode} ${res.body}`,
        );
    } finally {
      await probe.close();
    }
  } finally {
    await db.close();
  }
}

// PostgreSQL text cannot hold NUL, and lone UTF-16 surrogates are not valid
// UTF-8: both would fail deep in the database as a 500. Refuse them up front.
const unstorable = (s: string) =>
  s.includes('\0') || !(s as unknown as { isWellFormed(): boolean }).isWellFormed();
function findUnstorable(value: unknown, path: string, depth = 0): string | null {
  if (typeof value === 'string') return unstorable(value) ? path : null;
  if (depth > 32 || value === null || typeof value !== 'object') return null;
  for (const [k, v] of Object.entries(value)) {
    const found = findUnstorable(v, Array.isArray(value) ? `${path}[${k}]` : `${path}.${k}`, depth + 1);
    if (found) return found;
  }
  return null;
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,100}$/;
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Security headers (Helmet). Its middleware only sets fixed headers (no nonce, nothing taken from
 * the request), so it runs once at start-up against a recorder and each response gets the
 * recorded list. Per request, Helmet's chain of a dozen middlewares (and @fastify/helmet, which
 * also rebuilds it on every request to allow per-route options we do not use) was a visible share
 * of a cached read's CPU. `helmet` is @fastify/helmet's own dependency, loaded through it so both
 * stay the same version.
 */
type Middleware = (req: IncomingMessage, res: ServerResponse, next: (err?: Error) => void) => void;
const helmet = createRequire(createRequire(import.meta.url).resolve('@fastify/helmet'))('helmet') as (
  options: object,
) => Middleware;
export const SECURITY_HEADERS: ReadonlyArray<readonly [string, string]> = (() => {
  const headers: [string, string][] = [];
  const recorder = {
    setHeader: (name: string, value: unknown) => headers.push([name.toLowerCase(), String(value)]),
    removeHeader: () => {},
  };
  let done = false;
  helmet({
    contentSecurityPolicy: {
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        connectSrc: ["'self'"],
        fontSrc: ["'self'"],
        objectSrc: ["'none'"],
        frameAncestors: ["'none'"],
        baseUri: ["'self'"],
        formAction: ["'self'"],
      },
    },
  })({} as IncomingMessage, recorder as unknown as ServerResponse, (err) => {
    if (err) throw err;
    done = true;
  });
  if (!done || headers.length === 0) throw new Error('helmet did not set its headers synchronously');
  return headers;
})();

/**
 * One access line per request, when it completes, instead of Fastify's two ("incoming request"
 * and "request completed", each with the request serialised and redacted): logging was the
 * largest share of a cached read's CPU. The line holds no secret (no headers, no body), so it
 * skips redaction, which cost as much again as writing it. Errors are still logged by Fastify and
 * by the error handler, redacted.
 */
function accessLogController(logger: FastifyBaseLogger, accessLog?: AccessLog): LogController {
  const access =
    accessLog ??
    ((child): AccessLog => ({ write: (line) => child.info(line, 'request completed') }))(
      logger.child({}, { redact: [] } as object),
    );
  return new (class extends LogController {
    override incomingRequest() {}
    override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply) {
      const line: AccessLine = {
        reqId: request.id,
        method: request.method,
        url: request.url,
        statusCode: reply.statusCode,
        responseTime: Math.round(reply.elapsedTime * 100) / 100,
        remoteAddress: request.ip,
      };
      if (error) reply.log.error({ ...line, err: error }, 'request errored');
      else access.write(line);
    }
  })();
}

/** Secrets never reach the logs. */
export const LOG_REDACT = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-csrf-token"]',
  'res.headers["set-cookie"]',
  '*.password',
  '*.currentPassword',
  '*.newPassword',
  '*.oneTimePassword',
  '*.csrfToken',
  '*.token',
  '*.secret',
];

export async function buildApp(opts: AppOptions) {
  const app = Fastify({
    ...(opts.loggerInstance ? { loggerInstance: opts.loggerInstance } : { logger: false }),
    ...(opts.loggerInstance
      ? {
          logController: accessLogController(opts.loggerInstance, opts.accessLog),
          childLoggerFactory: lazyChildLoggerFactory,
        }
      : {}),
    bodyLimit: 256 * 1024,
    trustProxy: false,
    requestIdHeader: false,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
    routerOptions: { ignoreTrailingSlash: true },
    frameworkErrors,
    // Every response schema is compiled by fast-serialiser.ts: fast-json-stringify without a
    // validator per value for unions of scalars; the same bytes as Fastify's default compiler.
    schemaController: { compilersFactory: { buildSerializer: buildSerialiser } },
  });
  app.setValidatorCompiler(validatorCompiler);
  // The per-request hooks are callback-style (no promise per hook and request): they run on every
  // read the dashboard polls (bench/README.md, "The read path").
  app.addHook('preValidation', (request, _reply, done) => {
    const field =
      findUnstorable(request.params, 'params') ??
      findUnstorable(request.query, 'querystring') ??
      findUnstorable(request.body, 'body');
    done(field ? AppError.badField(field, 'contains a NUL character or invalid Unicode') : undefined);
  });
  // One onSend hook for every response (each hook is a step of Fastify's chain on every read): the
  // security headers, the request id, and for a change made through this API, the read caches told
  // before its answer leaves (`localWrite`, set once the caches exist, below). Every answer goes
  // through it — errors, 404s, files, the dashboard's shell. They go into the reply's own headers,
  // never `reply.raw.setHeader`: one header set on the raw response makes Node take `writeHead`'s
  // slow path, validating and storing every header of the answer twice (bench/README.md, "The read
  // path"). A part that needs its own value of one of them sets it in an onSend hook of its own,
  // which runs after this one (Swagger UI's CSP: access-log.test.ts).
  let localWrite: (() => void) | null = null;
  app.addHook('onSend', (request, reply, payload, done) => {
    for (const [name, value] of SECURITY_HEADERS) reply.header(name, value);
    reply.header('x-request-id', request.id);
    if (localWrite && !SAFE_METHODS.has(request.method)) localWrite();
    done(null, payload);
  });

  // External plugins first.
  await app.register(errorHandler);
  // Only routes that ask for it (sign-in) are limited; the rest rely on authentication.
  await app.register(rateLimit, { global: false });
  await app.register(metrics, opts.metrics ?? {});
  await app.register(openapi);
  await app.register(database, { db: opts.db });

  // Domain plugins.
  await app.register(services, {
    auth: opts.auth,
    viewCache: opts.viewCache,
    secrets: { key: opts.secretKey, dataDir: opts.orchestrator?.dataDir ?? defaultDataDir() },
  });
  await app.register(auth);
  await app.register(eventBus, opts.events ?? {});
  // Read caches invalidated by the event bus (views: services/view-cache.ts; credentials:
  // lib/credential-cache.ts). A change made through this process is seen by the very next read:
  // both are told before its response is sent.
  const { views } = app.services;
  app.eventBus.onNotified((seq) => views.notified(seq));
  app.eventBus.onListening((up) => {
    views.listening(up);
    app.credentialCache.listening(up);
  });
  app.eventBus.onCredentialsChanged(() => app.credentialCache.changed());
  views.listening(app.eventBus.isListening());
  app.credentialCache.listening(app.eventBus.isListening());
  localWrite = () => {
    views.localWrite();
    app.credentialCache.clear();
  };
  // The orchestrator registers after the services, as it always has: its worker starts (onReady)
  // once the event bus and the caches are set up. The services hold only its port (services.ts).
  await app.register(orchestrator, {
    worker: false,
    dataDir: defaultDataDir(),
    ...opts.orchestrator,
  });
  // A revoked host's agent connection closes at once, in whichever process holds it.
  app.eventBus.onCredentialsChanged((change) => {
    if (change?.hostId) app.orchestrator.agentHub.revoked(change.hostId);
  });
  await app.register(policies, { run: false, ...opts.policies });
  await app.register(observe, opts.observe ?? {});
  await app.register(webhooks, {
    worker: opts.orchestrator?.worker ?? false,
    ...opts.webhooks,
  });
  // The control plane's figures on /metrics, read from the database at each scrape (the same in
  // every process, whatever its role).
  const controlPlane = createControlPlaneMetrics({ metrics: app.repos.metrics });
  app.addMetricsSource('control_plane', () => controlPlane.text());
  const dataDir = opts.orchestrator?.dataDir ?? defaultDataDir();
  await app.register(backups, {
    ...DEFAULT_BACKUP_OPTIONS,
    dir: join(dataDir, 'backups'),
    schedule: false,
    ...opts.backups,
    bootCheck: (url: string) => bootCheck(url, opts.secretKey),
    toolVersion: TOOL_VERSION,
  });

  // Routes.
  await app.register(healthRouter);
  await app.register(
    async (api) => {
      await api.register(authRouter, {
        demo: opts.demo,
        secureCookies: opts.secureCookies,
        loginRateLimit: opts.loginRateLimit,
      });
      await api.register(userRouter);
      await api.register(tokenRouter);
      await api.register(hostRouter);
      await api.register(agentRouter);
      await api.register(auditRouter);
      await api.register(backupRouter);
      await api.register(webhookRouter);
      await api.register(applicationRouter);
      await api.register(applicationAdminRouter);
      await api.register(freezeRouter);
      await api.register(policyRouter);
      await api.register(releaseRouter);
      await api.register(configRouter);
      await api.register(driftHooksRouter);
      await api.register(analysisProviderRouter);
      await api.register(deploymentRouter);
      await api.register(deploymentCommandRouter);
      await api.register(environmentActionRouter);
      await api.register(scalingRouter);
      await api.register(environmentObserveRouter);
      await api.register(syntheticLoadRouter);
      await api.register(runtimeTargetRouter);
      await api.register(resourcesRouter);
      await api.register(deploymentObserveRouter);
      await api.register(eventsRouter);
      await api.register(monitoringRouter);
    },
    { prefix: '/api/v1' },
  );
  await app.register(web, { webDist: opts.webDist });
  return app;
}
export type App = Awaited<ReturnType<typeof buildApp>>;
