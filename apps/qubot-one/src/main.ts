import { ConfigError, loadConfig } from './config';
import { createQubotOne } from './server';

const log = (msg: string, extra: Record<string, unknown> = {}) =>
  console.log(JSON.stringify({ time: new Date().toISOString(), service: 'qubot-one', msg, ...extra }));

async function main(): Promise<void> {
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig(process.argv.slice(2), process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`qubot-one: ${err.message}`);
      process.exit(2);
    }
    throw err;
  }
  const { faults } = config;
  if (faults.failStart) {
    console.error('qubot-one: fault injected: failing at start-up');
    process.exit(1);
  }
  const app = createQubotOne(config);
  const port = await app.listen();
  log('listening', {
    host: config.host,
    port,
    version: config.version,
    pool: config.pool,
    instanceId: config.instanceId,
    artifact: config.artifact,
    faults,
  });

  if (faults.crashAfterS !== null) {
    setTimeout(() => {
      console.error(`qubot-one: fault injected: crashing after ${faults.crashAfterS}s`);
      process.exit(70);
    }, faults.crashAfterS * 1000);
  }

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log('shutting down', { signal, inFlight: app.inFlight });
    app.shutdown().then(
      () => {
        log('stopped');
        process.exit(0);
      },
      (err: unknown) => {
        console.error('shutdown failed', err);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((err: unknown) => {
  console.error('qubot-one: fatal', err);
  process.exit(1);
});
