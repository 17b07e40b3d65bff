// Entry point of a traffic router process. Configured through the environment so the secret
// never appears in a process listing: QUBOT_ROUTER_PORT, QUBOT_ROUTER_CONTROL_PORT,
// QUBOT_ROUTER_SECRET, QUBOT_ROUTER_STATE_FILE, QUBOT_ROUTER_HOST.
import { hostname } from 'node:os';
import { collectProcessMetrics } from '../process-metrics.ts';
import { createTrafficRouter } from './router.ts';

const env = process.env;
// The control plane's line shape (pino's: level, epoch-ms time, pid, hostname, component, msg;
// docs/monitoring.md "Logs"), so shipped logs of every component parse the same way.
const HOST = hostname();
const log = (msg: string, extra: Record<string, unknown> = {}, level = 30) =>
  console.log(
    JSON.stringify({
      level,
      time: Date.now(),
      pid: process.pid,
      hostname: HOST,
      component: 'router',
      ...extra,
      msg,
    }),
  );

const router = createTrafficRouter({
  port: Number(env.QUBOT_ROUTER_PORT),
  controlPort: Number(env.QUBOT_ROUTER_CONTROL_PORT),
  secret: env.QUBOT_ROUTER_SECRET ?? '',
  stateFile: env.QUBOT_ROUTER_STATE_FILE || undefined,
  host: env.QUBOT_ROUTER_HOST || undefined,
  bindRetryMs: Number(env.QUBOT_ROUTER_BIND_RETRY_MS) || 0,
  log,
});
delete process.env.QUBOT_ROUTER_SECRET;
// The process's own figures beside the traffic ones: CPU, memory, event-loop delay (p50/p99/max
// since the previous scrape) and GC pauses (`qubot_router_nodejs_gc_duration_seconds`) — what shows
// whether the router's tail is its own. Here rather than in createTrafficRouter: they describe the
// process, and a test process may hold several routers.
collectProcessMetrics(router.registry, 'qubot_router_');

router.listen().then(
  (ports) => log('listening', { ...ports, pid: process.pid }),
  (err: unknown) => {
    log('failed to listen', { error: String(err) }, 50);
    process.exit(1);
  },
);

let stopping = false;
const stop = (sig: string) => {
  if (stopping) return;
  stopping = true;
  log('draining', { signal: sig, inFlight: router.inFlight().total });
  router.close().then(
    () => {
      log('stopped');
      process.exit(0);
    },
    () => process.exit(1),
  );
};
process.on('SIGTERM', () => stop('SIGTERM'));
process.on('SIGINT', () => stop('SIGINT'));
process.on('SIGHUP', () => {});
process.on('SIGPIPE', () => {});
