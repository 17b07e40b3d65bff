import { Agent as HttpAgent, get as httpGet } from 'node:http';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SYNTHETIC_LOAD_RPS } from '@qubot/api-contract';
import { createEnvironmentRepo, createTransact, type Database, seedDemo } from '@qubot/db';
import type { Logger } from 'pino';
import type { App } from './app.ts';
import { type RequestContext, SYSTEM_ACTOR } from './lib/request-context.ts';
import { seedDemoUsers } from './services/user-service.ts';
import { appendEnvironmentUpdated } from './views/environment-events.ts';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
/** How the demo runs Qubot-One: the launcher template an admin would configure (DESIGN §4). */
export const DEMO_LAUNCHER =
  'node --import tsx apps/qubot-one/src/main.ts --artifact {artifact} --port {port} --pool {pool}';

/** Qubot-One's jobs for deployment hooks: `migrate`, `smoke`, `fail` (apps/qubot-one/src/job.ts). */
export const DEMO_JOB_LAUNCHER =
  'node --import tsx apps/qubot-one/src/job.ts {job} --version {version} --environment {environment}';

export async function seedDemoData(db: Database, logger: Logger) {
  const app = await seedDemo(db.prisma, {
    launcher: DEMO_LAUNCHER,
    launcherCwd: REPO_ROOT,
    jobLauncher: DEMO_JOB_LAUNCHER,
  });
  // The synthetic load is on by default in demo mode; an environment where someone turned it off
  // (false) keeps it off across restarts.
  // Announced like every change to an environment's view (the pipeline read is cached until the
  // next event; docs/events.md).
  const environments = createEnvironmentRepo(db.prisma);
  await createTransact(db.prisma)(async (tx) => {
    const turnedOn = await environments.enableUnsetSyntheticLoad(app.id, tx);
    for (const env of turnedOn) {
      await appendEnvironmentUpdated(tx, { id: env.id, applicationId: app.id, name: env.name });
    }
  });
  // Demo users exist only in demo mode (DESIGN §7); passwords are demo-<username>.
  await seedDemoUsers(db);
  logger.info('demo data ready: application qubot-one with development, staging and production');
}

/** What the demo deploys to every environment at start: the first release, blue-green, live on blue. */
export const DEMO_INITIAL_VERSION = '1.0.0';

const systemContext = (): RequestContext => {
  const ctx: RequestContext = {
    actor: SYSTEM_ACTOR,
    requestId: 'demo-start',
    clientIp: null,
    userAgent: null,
    auditFields: () => ({
      actor: SYSTEM_ACTOR.name,
      role: SYSTEM_ACTOR.role,
      requestId: ctx.requestId,
      clientIp: null,
      userAgent: null,
    }),
  };
  return ctx;
};

/**
 * Quick start: every environment with nothing running gets a real deployment (2 instances of
 * 1.0.0 on blue behind its router), so a release manager can deploy 1.1.0 and promote it at once.
 * Environments that kept running since the last start (re-adopted) are left alone.
 */
export async function deployDemoReleases(app: App, logger: Logger) {
  const { repos } = app;
  const application = await repos.applications.findByName('qubot-one');
  if (!application) return [];
  const ids: string[] = [];
  for (const env of await repos.environments.pipeline(application.id)) {
    const running = await repos.instances.countUp(env.id);
    const active = await repos.deploymentWrites.findActive(env.id);
    if (running > 0 || active) continue;
    const d = await app.services.deploymentCommands.launch(systemContext(), application.name, env.name, {
      kind: 'deploy',
      version: DEMO_INITIAL_VERSION,
      strategy: 'blue-green',
      // Production is protected (manual switch by default); the demo starts it live.
      options: { autoSwitch: true, rollbackWindowSeconds: 60 },
      reason: 'demo: initial release',
      // The first release goes everywhere at once: an audited override of the promotion order.
      overridePromotionOrder: true,
      auditAction: 'deployment.create',
    });
    ids.push(d.id);
    logger.info({ environment: env.name, deployment: d.id }, `demo: deploying ${DEMO_INITIAL_VERSION}`);
  }
  return ids;
}

/** Demo mode's clean stop: the applications and routers it started stop with it. */
export async function stopDemoRuntime(app: App) {
  await app.orchestrator.runtime.stopEverything();
}

/**
 * The demo's synthetic load: a small steady stream of requests (SYNTHETIC_LOAD_RPS a second) to
 * the address of every environment whose synthetic load is on, so a canary always has traffic to
 * judge — without it, its analysis is rightly inconclusive. Switched per environment through
 * `PUT …/synthetic-load`; the list is read again every `refreshMs`.
 */
const SYNTHETIC_HEADERS = { 'user-agent': 'qubot-synthetic-load' };

export function startSyntheticLoad(
  db: Pick<Database, 'prisma'>,
  logger: Pick<Logger, 'warn'>,
  opts: { rps?: number; refreshMs?: number } = {},
) {
  const rps = opts.rps ?? SYNTHETIC_LOAD_RPS;
  let targets: string[] = [];
  let inFlight = 0;
  const environments = createEnvironmentRepo(db.prisma);
  const refresh = async () => {
    targets = await environments.syntheticLoadAddresses();
  };
  const refreshing = setInterval(() => {
    refresh().catch((err) => logger.warn({ err }, 'synthetic load: could not read the environments'));
  }, opts.refreshMs ?? 2_000);
  // node:http with one keep-alive agent (not `fetch`): the sender runs inside the control plane's
  // API process all the time, and `fetch`'s per-request machinery was the largest part of that
  // process's idle CPU (bench/README.md, "The read path").
  const agent = new HttpAgent({ keepAlive: true, maxSockets: 4 });
  const sending = setInterval(() => {
    for (const address of targets) {
      // An environment that does not answer must not pile up requests.
      if (inFlight >= 20 * Math.max(1, targets.length)) return;
      inFlight += 1;
      let settled = false;
      const done = () => {
        if (settled) return;
        settled = true;
        inFlight -= 1;
      };
      try {
        const req = httpGet(address, { agent, timeout: 5_000, headers: SYNTHETIC_HEADERS }, (res) => {
          res.on('end', done).on('error', done).on('close', done).resume();
        });
        req.on('timeout', () => req.destroy()).on('error', done);
      } catch {
        done(); // not an http:// address
      }
    }
  }, 1000 / rps);
  refreshing.unref();
  sending.unref();
  void refresh().catch(() => {});
  return {
    /** Addresses being loaded now (tests). */
    targets: () => [...targets],
    stop() {
      clearInterval(refreshing);
      clearInterval(sending);
      agent.destroy();
    },
  };
}
export type SyntheticLoad = ReturnType<typeof startSyntheticLoad>;
