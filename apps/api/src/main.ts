// Entry point: `qubot-api [--role all|api|worker] [--demo]`.
import { hostname } from 'node:os';
import { defaultDataDir, openDatabase } from '@qubot/db';
import pino from 'pino';
import { buildApp, LOG_REDACT } from './app.ts';
import { ConfigError, loadConfig } from './config.ts';
import {
  deployDemoReleases,
  REPO_ROOT,
  type SyntheticLoad,
  seedDemoData,
  startSyntheticLoad,
  stopDemoRuntime,
} from './demo.ts';
import { createAccessLogger } from './lib/access-log.ts';
import { ensureFirstAdmin } from './services/user-service.ts';

async function main() {
  const config = loadConfig();
  // `component` tells the roles apart once logs are shipped together (docs/monitoring.md "Logs").
  const component = config.role === 'all' ? 'control-plane' : config.role;
  const logger = pino({
    level: config.logLevel,
    redact: LOG_REDACT,
    base: { pid: process.pid, hostname: hostname(), component },
  });
  const access = createAccessLogger({ level: config.logLevel, base: { component } });
  const db = await openDatabase({
    databaseUrl: config.databaseUrl,
    dataDir: config.dataDir,
    poolSize: config.dbPoolMax,
    poolWaitMs: config.dbPoolWaitMs,
    log: (line) => logger.info(line),
  });
  let app: Awaited<ReturnType<typeof buildApp>>;
  // Where the dashboard is, for links in webhook bodies: QUBOT_PUBLIC_URL, else where we listen.
  let listening = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${config.port}`;
  let firstAdminPassword: string | null = null;
  try {
    if (config.demo) await seedDemoData(db, logger);
    // First start: no users at all → `admin` with a one-time password (demo mode seeds its own users first).
    firstAdminPassword = await ensureFirstAdmin(db);
    app = await buildApp({
      db,
      loggerInstance: logger,
      accessLog: access,
      viewCache: config.viewCache,
      demo: config.demo,
      secureCookies: process.env.QUBOT_SECURE_COOKIES === '1',
      loginRateLimit: { max: config.loginRateLimit, timeWindowMs: 60_000 },
      events: { limits: { maxSocketsPerUser: config.wsMaxPerUser } },
      metrics: config.metrics,
      // Scheduled backups and restore drills run in worker processes (one of them acts).
      backups: { ...config.backups, schedule: config.role !== 'api' },
      // Promotion policies are evaluated in worker processes (every one: exactly once by claim).
      policies: { run: config.role !== 'api' },
      // Webhook deliveries run where deployments run (roles `all` and `worker`).
      webhooks: {
        worker: config.role !== 'api',
        timeoutMs: config.webhooks.timeoutMs,
        maxAttempts: config.webhooks.maxAttempts,
        publicUrl: () => config.webhooks.publicUrl ?? listening,
      },
      // Roles `all` and `worker` drive deployments here; `api` only enqueues them.
      orchestrator: {
        worker: config.role !== 'api',
        dataDir: config.dataDir ?? defaultDataDir(),
        workspaceDir: REPO_ROOT,
      },
    });
  } catch (err) {
    await db.shutdown();
    throw err;
  }

  let stopping = false;
  let syntheticLoad: SyntheticLoad | null = null;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down: finishing in-flight requests');
    const force = setTimeout(() => {
      logger.error('shutdown took too long; exiting');
      process.exit(1);
    }, 30_000);
    force.unref();
    try {
      syntheticLoad?.stop();
      await app.close();
      // Without --demo, applications and routers keep serving; the next start re-adopts them.
      if (config.demo)
        await stopDemoRuntime(app).catch((err) => logger.error({ err }, 'demo clean stop failed'));
      await db.shutdown();
      logger.info('stopped');
      process.exit(0);
    } catch (err) {
      logger.error({ err }, 'error during shutdown');
      process.exit(1);
    }
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));

  await app.listen({ port: config.port, host: config.host });
  const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${(app.server.address() as { port: number }).port}`;
  listening = url;
  logger.info({ url }, 'Qubot Deploy is up');
  if (config.demo) await deployDemoReleases(app, logger);
  // A steady trickle of requests per environment, so a canary has traffic to judge (switchable).
  if (config.demo) syntheticLoad = startSyntheticLoad(db, logger);
  // The one line a person running the quick start looks for.
  process.stdout.write(`\n  Qubot Deploy dashboard: ${url}/\n  API docs: ${url}/api/docs\n\n`);
  if (firstAdminPassword) {
    // Printed once, to stdout only (never to the log): it is not stored anywhere in clear.
    process.stdout.write(
      `  First start: sign in as "admin" with the one-time password\n\n      ${firstAdminPassword}\n\n` +
        '  You will be asked to choose a new password.\n\n',
    );
    firstAdminPassword = null;
  }
}

main().catch((err) => {
  if (err instanceof ConfigError) {
    process.stderr.write(`qubot-api: ${err.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`qubot-api: failed to start: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
