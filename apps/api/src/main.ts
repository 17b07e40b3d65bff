// Entry point: `qubot-api [--role all|api|worker] [--demo]`.
import { openDatabase } from '@qubot/db';
import pino from 'pino';
import { buildApp, LOG_REDACT } from './app.ts';
import { ConfigError, loadConfig } from './config.ts';
import { seedDemoData } from './demo.ts';

async function main() {
  const config = loadConfig();
  const logger = pino({ level: config.logLevel, redact: LOG_REDACT });
  const db = await openDatabase({
    databaseUrl: config.databaseUrl,
    dataDir: config.dataDir,
    log: (line) => logger.info(line),
  });
  let app: Awaited<ReturnType<typeof buildApp>>;
  try {
    if (config.demo) await seedDemoData(db, logger);
    app = await buildApp({ db, loggerInstance: logger });
  } catch (err) {
    await db.shutdown();
    throw err;
  }

  let stopping = false;
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
      await app.close();
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
  logger.info({ url }, 'Qubot Deploy is up');
  // The one line a person running the quick start looks for.
  process.stdout.write(`\n  Qubot Deploy dashboard: ${url}/\n  API docs: ${url}/api/docs\n\n`);
}

main().catch((err) => {
  if (err instanceof ConfigError) {
    process.stderr.write(`qubot-api: ${err.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`qubot-api: failed to start: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
