// The orchestrator (worker role). Work is distributed through pg-boss, a job queue in
// PostgreSQL: a job says "drive deployment D" and carries nothing else — the deployment's
// state in the database says what to do. Whoever drives a deployment holds its lease
// (lease.ts); the drive loop then repeats: deliver due timers, execute the command in flight,
// persist its result (engine.ts), until the deployment waits for a person or a later timer
// (a delayed job wakes it) or is finished. See docs/deployments.md, "Durability".
import type { RuntimeInUse } from '@qubot/api-contract';
import type { DeploymentEvent, DeploymentState } from '@qubot/core';
import { isFinished } from '@qubot/core';
import {
  createDeploymentWriteRepo,
  createEnvironmentRepo,
  createInstanceRepo,
  createMetricRepo,
  createTransact,
  type Database,
} from '@qubot/db';
import { type KubernetesDriver, LocalDriver, type RuntimeDriver } from '@qubot/runtime';
import PgBoss from 'pg-boss';
import type { OrchestratorPort, TrafficSample } from '../lib/orchestrator-port.ts';
import type { EffectiveConfigService } from '../services/effective-config.ts';
import { appendInstanceOomKilled } from '../views/environment-events.ts';
import { createAgentDriver, createPlacementDriver } from './agent-driver.ts';
import { type AgentHubOptions, createAgentHub } from './agent-hub.ts';
import { createDriverFor, TargetDriver } from './drivers.ts';
import { createEngine } from './engine.ts';
import { createExecutor } from './executor.ts';
import { createHealthMonitor, type HealthMonitor } from './health-monitor.ts';
import { createHookRunner } from './hooks.ts';
import { tryLease } from './lease.ts';
import { createReconciler, type Reconciler } from './reconciler.ts';
import { createEnvironmentRuntime, type RuntimeLog } from './runtime.ts';

export const DRIVE_QUEUE = 'deployment-drive';
/**
 * Router work asked by an API-only process (`--role api`): it holds no runtime, so a worker —
 * the process that runs the routers — starts the router or pushes the routing, and the API waits
 * for the job's outcome.
 */
export const ROUTING_QUEUE = 'environment-routing';
export interface RoutingJob {
  environmentId: string;
  /** ensure: start or adopt the router; sync: push the routing; handover: finish a provider change. */
  op: 'ensure' | 'sync' | 'handover';
}

export interface OrchestratorOptions {
  db: Database;
  /** Runtime state (instance and router directories) goes under `<dataDir>/runtime`. */
  dataDir: string;
  /** Run the worker role here (drive deployments); otherwise this process only enqueues. */
  worker: boolean;
  log: RuntimeLog & { error(obj: object, msg?: string): void };
  /** Deployments driven at once by this process. */
  concurrency?: number;
  /** Backstop scan for deployments nobody drives (a lost wake-up); default 5 s. */
  sweepIntervalMs?: number;
  /** Instance health probe interval while waiting; default 250 ms. */
  healthIntervalMs?: number;
  /** The runtime driver; default the local driver ("this machine") under `<dataDir>/runtime`. */
  driver?: RuntimeDriver;
  /** Base for relative launcher working directories. */
  workspaceDir?: string;
  /** Grace period given to instances on stop; default 10 s. */
  stopTimeoutMs?: number;
  /** How often the cluster's health monitor probes running instances; default 5 s, 0 = off here. */
  healthMonitorIntervalMs?: number;
  /**
   * How often the cluster's reconcile loop restarts dead routers and supervisors and realigns
   * routing with the database (reconciler.ts); default 1 s, 0 = off here.
   */
  reconcileIntervalMs?: number;
  /** API-only process: how long it waits for a worker to do router work it asked for; default 15 s. */
  routingTimeoutMs?: number;
  /** Decrypted configuration for instances and hooks, and its hash (services/effective-config.ts). */
  effectiveConfig?: EffectiveConfigService | undefined;
  /** The secret box: what the agent hubs tell each other is encrypted with it (agent-relay.ts). */
  secrets?: AgentHubOptions['seal'] | undefined;
  /** Host agents (docs/hosts.md): heartbeat interval and how long without one makes a host lost. */
  agents?: { heartbeatMs?: number; lostAfterMs?: number; checkIntervalMs?: number; eventEveryMs?: number };
  /**
   * Restores an environment's replica count after instances were lost with their host (a `scale`
   * of the same count, as the system actor). False while the environment is busy: tried again.
   */
  replaceLost?: (environmentId: string, reason: string) => Promise<boolean>;
}

/** A timer closer than this is waited for in place (holding the lease); later ones become delayed jobs. */
const WAIT_IN_PLACE_MS = 5_000;
/** A drive hands over to a fresh job after this long, so no job outlives pg-boss's expiry. */
const MAX_DRIVE_MS = 5 * 60_000;

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });

export function createOrchestrator(opts: OrchestratorOptions) {
  const { db, log } = opts;
  // The one runtime the orchestrator knows is `RuntimeDriver`. Each environment's `runtimeTarget`
  // chooses its driver (drivers.ts `driverFor`): `local` runs processes — on this machine (the
  // default) or, with placement `hosts`, on the enrolled hosts through their agents
  // (docs/hosts.md); `kubernetes` runs pods (docs/kubernetes.md).
  const localDriver: RuntimeDriver =
    opts.driver ??
    new LocalDriver({
      dataDir: `${opts.dataDir}/runtime`,
      ...(opts.workspaceDir ? { workspaceDir: opts.workspaceDir } : {}),
      stopTimeoutMs: opts.stopTimeoutMs ?? 10_000,
      ...(opts.effectiveConfig !== undefined ? { configHasher: opts.effectiveConfig.hashCanonical } : {}),
    });
  /** Environments whose lost instances still wait to be replaced (the environment was busy). */
  const toReplace = new Map<string, string>();
  async function replacePending() {
    for (const [environmentId, reason] of toReplace) {
      const done = await (opts.replaceLost?.(environmentId, reason) ?? Promise.resolve(true)).catch(
        () => false,
      );
      if (done) toReplace.delete(environmentId);
    }
  }
  const agentHub = createAgentHub({
    db,
    log,
    ...(opts.secrets ? { seal: opts.secrets } : {}),
    ...opts.agents,
    onLost: async (host, environmentIds) => {
      for (const environmentId of environmentIds) {
        // Out of the routing at once (also mid-deployment), then replaced.
        await runtime
          .applyRouting(environmentId)
          .catch((err) => log.warn({ err, environmentId }, 'could not take a lost host out of the routing'));
        await createTransact(db.prisma)((tx) => engine.announce(tx, null, environmentId)).catch(() => {});
        toReplace.set(environmentId, `host ${host.name} lost: replacing its instances`);
      }
      await replacePending();
    },
  });
  const agentDriver = createAgentDriver({ db, hub: agentHub });
  const local: RuntimeDriver = createPlacementDriver(localDriver, agentDriver);
  const targets = createDriverFor({ local });
  const environmentRepo = createEnvironmentRepo(db.prisma);
  const instanceRepo = createInstanceRepo(db.prisma);
  const driver: RuntimeDriver = new TargetDriver(local, {
    async environment(key) {
      const [app = '', env = ''] = key.split('/');
      const row = await environmentRepo.findRuntimeTarget(app, env);
      return row ? targets.driverFor(row) : local;
    },
    async instance(id) {
      const row = await instanceRepo.findRuntimeTarget(id);
      return row ? targets.driverFor(row) : local;
    },
  });
  const runtime = createEnvironmentRuntime({
    db,
    driver,
    dataDir: `${opts.dataDir}/runtime`,
    log,
    // A Kubernetes environment's traffic goes through the cluster (its Services, HTTPRoute).
    async kubernetes(environmentId) {
      const env = await environmentRepo.getForRouter(environmentId);
      const row = await environmentRepo.findRuntimeTarget(env.application.name, env.name);
      if (row?.runtimeTarget !== 'kubernetes') return null;
      return {
        driver: targets.driverFor(row) as KubernetesDriver,
        environment: `${env.application.name}/${env.name}`,
      };
    },
  });
  const engine = createEngine(db);
  const hooks = createHookRunner({
    db,
    dataDir: `${opts.dataDir}/runtime`,
    ...(opts.workspaceDir ? { workspaceDir: opts.workspaceDir } : {}),
    effectiveConfig: opts.effectiveConfig,
    announce: (tx, deploymentId, environmentId) => engine.announce(tx, deploymentId, environmentId),
  });
  const executor = createExecutor({
    db,
    driver,
    runtime,
    hooks,
    effectiveConfig: opts.effectiveConfig,
    ...(opts.healthIntervalMs ? { healthIntervalMs: opts.healthIntervalMs } : {}),
  });
  const deployments = createDeploymentWriteRepo(db.prisma);
  const metrics = createMetricRepo(db.prisma);
  /** Deployments whose lease this process lost while driving them: their drive stops at the next step. */
  const lost = new Set<string>();
  const leaseLost = (id: string) => () => {
    lost.add(id);
    log.error({ deploymentId: id }, 'lost the deployment lease (its database connection died)');
    metrics
      .countLeaseLoss(id)
      .catch((err) => log.warn({ err, deploymentId: id }, 'could not count the lease loss'));
  };
  const boss = new PgBoss({
    connectionString: db.url,
    max: 3,
    supervise: opts.worker,
    schedule: false,
    migrate: true,
  });
  boss.on('error', (err) => log.warn({ err }, 'job queue error'));

  const stopController = new AbortController();
  /** Deployments this process drives now, and the drive's completion. */
  const driving = new Map<string, Promise<void>>();
  const workerIds: string[] = [];
  let sweeper: NodeJS.Timeout | null = null;
  let monitor: HealthMonitor | null = null;
  let reconciler: Reconciler | null = null;
  let replacer: NodeJS.Timeout | null = null;
  let started = false;

  async function loadState(id: string) {
    const row = await deployments.findState(id);
    return row ? { ...row, state: row.state as unknown as DeploymentState } : null;
  }

  /** Resolves when the deployment row changes, `until` passes, or the orchestrator stops. */
  async function waitForChange(id: string, since: Date, until: number) {
    while (Date.now() < until && !stopController.signal.aborted) {
      await sleep(Math.min(200, until - Date.now()), stopController.signal);
      const row = await deployments.findUpdatedAt(id);
      if (!row || row.updatedAt.getTime() !== since.getTime()) return;
    }
  }

  async function sample(environmentId: string, state: DeploymentState): Promise<TrafficSample | null> {
    return state.phase === 'cleanup' || state.phase === 'done' ? null : runtime.sampleTraffic(environmentId);
  }

  /** Executes the command in flight, aborting it if someone else's action replaces it meanwhile. */
  async function executeInFlight(id: string, state: DeploymentState) {
    const cmd = state.inFlight?.command;
    if (!cmd) return;
    const ac = new AbortController();
    const onStop = () => ac.abort();
    stopController.signal.addEventListener('abort', onStop, { once: true });
    const watcher = (async () => {
      while (!ac.signal.aborted) {
        await sleep(300, ac.signal);
        if (ac.signal.aborted) break;
        const row = await loadState(id).catch(() => null);
        if (row && row.state.inFlight?.command?.id !== cmd.id) ac.abort();
      }
    })();
    try {
      const execution = await executor.execute(id, cmd, ac.signal);
      if (stopController.signal.aborted) return;
      const row = await loadState(id);
      await engine.apply(id, execution.event, {
        ...(execution.effects ? { effects: execution.effects } : {}),
        traffic: row ? await sample(row.environmentId, row.state) : null,
      });
    } catch (err) {
      if (!ac.signal.aborted) throw err;
    } finally {
      ac.abort();
      stopController.signal.removeEventListener('abort', onStop);
      await watcher;
    }
  }

  async function driveLoop(id: string) {
    const until = Date.now() + MAX_DRIVE_MS;
    while (!stopController.signal.aborted) {
      if (lost.has(id)) {
        // Another worker may hold the lease now: stop here, and queue the deployment again, so
        // whoever gets the lease (maybe this process) resumes it from what is persisted.
        await wake(id);
        return;
      }
      if (Date.now() > until) {
        await wake(id);
        return;
      }
      const row = await loadState(id);
      if (!row || isFinished(row.state)) return;
      const s = row.state;
      if (s.status === 'pending') {
        // The environment's address exists before anything is deployed behind it.
        await runtime.ensureRouter(row.environmentId);
        await engine.apply(
          id,
          { type: 'start' },
          { traffic: await runtime.sampleTraffic(row.environmentId) },
        );
        continue;
      }
      const now = Date.now();
      const due = Object.entries(s.timers)
        .filter(([, at]) => at <= now)
        .sort((a, b) => a[1] - b[1])[0];
      if (due) {
        const event: DeploymentEvent = { type: 'timerFired', name: due[0] };
        await engine.apply(id, event, { traffic: await sample(row.environmentId, s) });
        continue;
      }
      if (s.inFlight?.command) {
        await executeInFlight(id, s);
        continue;
      }
      const next = Math.min(...Object.values(s.timers));
      if (Number.isFinite(next) && next - now <= WAIT_IN_PLACE_MS) {
        await waitForChange(id, row.updatedAt, next);
        continue;
      }
      if (Number.isFinite(next)) await wake(id, next);
      // Otherwise it waits for a person; their action wakes it.
      return;
    }
  }

  /** Drives one deployment if nobody else does; waits a little for the lease of a busy one. */
  async function drive(id: string, leaseWaitMs = 30_000): Promise<void> {
    // A local drive may be about to stop just as new work arrived: drive again after it.
    await driving.get(id)?.catch(() => {});
    const deadline = Date.now() + leaseWaitMs;
    let lease = await tryLease(db, id, leaseLost(id));
    while (!lease && Date.now() < deadline && !stopController.signal.aborted) {
      await sleep(250, stopController.signal);
      lease = await tryLease(db, id, leaseLost(id));
    }
    if (!lease) return;
    const held = lease;
    const p = (async () => {
      try {
        await driveLoop(id);
      } catch (err) {
        log.error({ err, deploymentId: id }, 'driving the deployment failed; it will be resumed');
        if (!stopController.signal.aborted) await wake(id, Date.now() + 2_000).catch(() => {});
      } finally {
        driving.delete(id);
        lost.delete(id);
        await held.release();
      }
    })();
    driving.set(id, p);
    await p;
  }

  /** Ask a worker to drive the deployment now (or at `at`, epoch ms). Safe to call any number of times. */
  async function wake(id: string, at?: number) {
    if (stopController.signal.aborted) return;
    await ensureStarted();
    await boss.send(
      DRIVE_QUEUE,
      { deploymentId: id },
      at && at > Date.now() ? { startAfter: new Date(at) } : {},
    );
    if (!at) for (const w of workerIds) boss.notifyWorker(w);
  }

  /** Deployments with work left that nobody drives: resume them (start-up, lost wake-ups, dead workers). */
  async function sweep() {
    const rows = await deployments.listUnfinished();
    for (const r of rows) {
      if (driving.has(r.id) || stopController.signal.aborted) continue;
      const row = await loadState(r.id);
      if (!row || isFinished(row.state)) continue;
      const s = row.state;
      const runnable =
        s.status === 'pending' ||
        !!s.inFlight?.command ||
        Object.values(s.timers).some((at) => at <= Date.now());
      if (!runnable) continue;
      const probe = await tryLease(db, r.id);
      if (!probe) continue;
      await probe.release();
      await wake(r.id);
    }
  }

  let starting: Promise<void> | null = null;
  /** The queue is started on first use in the API role (read-only processes never need it). */
  function ensureStarted() {
    starting ??= (async () => {
      await boss.start();
      await boss.createQueue(DRIVE_QUEUE, {
        name: DRIVE_QUEUE,
        retryLimit: 5,
        retryDelay: 2,
        expireInSeconds: 15 * 60,
      });
      await boss.createQueue(ROUTING_QUEUE, { name: ROUTING_QUEUE, retryLimit: 0, expireInSeconds: 60 });
      started = true;
    })();
    return starting;
  }

  /**
   * Router work for the services. A worker does it here; an API-only process asks a worker through
   * ROUTING_QUEUE and waits for the outcome (the worker's error, or none within routingTimeoutMs).
   */
  async function routingViaWorker(job: RoutingJob): Promise<void> {
    await ensureStarted();
    const id = await boss.send(ROUTING_QUEUE, job, { retryLimit: 0, expireInSeconds: 60 });
    if (!id) throw new Error('the routing job was not queued');
    const deadline = Date.now() + (opts.routingTimeoutMs ?? 15_000);
    for (;;) {
      const found = await boss.getJobById<RoutingJob>(ROUTING_QUEUE, id);
      if (found?.state === 'completed') return;
      if (found?.state === 'failed' || found?.state === 'cancelled') {
        const output = found.output as { message?: unknown } | null;
        throw new Error(typeof output?.message === 'string' ? output.message : `routing job ${found.state}`);
      }
      if (Date.now() > deadline) {
        // Nobody took it: withdraw it, so it does not act later on what the caller gives up on.
        await boss.cancel(ROUTING_QUEUE, id).catch(() => {});
        throw new Error('no worker took the routing change (is a worker running?)');
      }
      await sleep(50, stopController.signal);
      if (stopController.signal.aborted) throw new Error('the control plane is stopping');
    }
  }
  async function runRoutingJob(job: RoutingJob): Promise<void> {
    if (job.op === 'ensure' || job.op === 'handover') await runtime.ensureRouter(job.environmentId);
    else await syncRouting(job.environmentId);
  }

  /** Router pushes from the services: one at a time per environment, in the order asked. */
  const pushing = new Map<string, Promise<unknown>>();
  function syncRouting(environmentId: string): Promise<void> {
    const run = async () => {
      await runtime.applyRouting(environmentId);
    };
    const prev = pushing.get(environmentId) ?? Promise.resolve();
    const next = prev.then(run, run);
    pushing.set(environmentId, next);
    void next
      .finally(() => {
        if (pushing.get(environmentId) === next) pushing.delete(environmentId);
      })
      .catch(() => {});
    return next;
  }

  /**
   * GET /runtime's `runtimes`: this machine (always), the enrolled hosts with what each one's
   * supervisor enforces (their agents say it on connecting; relayed between processes), and
   * Kubernetes when an environment targets it. Environments and hosts are few (no history read).
   */
  async function runtimesInUse(): Promise<RuntimeInUse[]> {
    const envs = await db.prisma.environment.findMany({
      select: {
        id: true,
        runtimeTarget: true,
        placement: true,
        kubernetes: true,
        application: { select: { name: true, podTemplate: true } },
      },
    });
    const hostRows = await db.prisma.host.findMany({
      where: { revokedAt: null },
      select: { id: true, name: true },
      orderBy: { name: 'asc' },
    });
    const count = (f: (e: (typeof envs)[number]) => boolean) => envs.filter(f).length;
    const out: RuntimeInUse[] = [
      {
        kind: 'local',
        environments: count((e) => e.runtimeTarget !== 'kubernetes' && e.placement !== 'hosts'),
        capabilities: { ...localDriver.capabilities },
      },
    ];
    const onHosts = count((e) => e.runtimeTarget !== 'kubernetes' && e.placement === 'hosts');
    if (hostRows.length > 0 || onHosts > 0)
      out.push({
        kind: 'hosts',
        environments: onHosts,
        capabilities: null,
        hosts: hostRows.map((h) => ({
          id: h.id,
          name: h.name,
          connected: agentHub.isConnected(h.id),
          capabilities: agentHub.capabilitiesOf(h.id),
        })),
      });
    const onKubernetes = envs.filter((e) => e.runtimeTarget === 'kubernetes');
    const first = onKubernetes[0];
    if (first) {
      let capabilities: RuntimeInUse['capabilities'] = null;
      try {
        capabilities = { ...targets.driverFor(first).capabilities };
      } catch {
        // Its target is not set up yet: in use, capabilities unknown.
      }
      out.push({ kind: 'kubernetes', environments: onKubernetes.length, capabilities });
    }
    return out;
  }

  /** What the services may ask of the orchestrator (lib/orchestrator-port.ts). */
  const port: OrchestratorPort = {
    runtimeInfo: async () => ({
      driver: driver.kind,
      capabilities: { ...driver.capabilities },
      runtimes: await runtimesInUse(),
    }),
    wake: (id) => wake(id),
    applyIn: engine.applyIn,
    announce: engine.announce,
    ensureRouter: (environmentId) =>
      opts.worker
        ? runtime.ensureRouter(environmentId).then(() => {})
        : routingViaWorker({ environmentId, op: 'ensure' }),
    syncRouting: (environmentId) =>
      opts.worker ? syncRouting(environmentId) : routingViaWorker({ environmentId, op: 'sync' }),
    // The environment's row says `handover`: ensuring its router is finishing the handover.
    handoverRouter: (environmentId) =>
      opts.worker
        ? runtime.ensureRouter(environmentId).then(() => {})
        : routingViaWorker({ environmentId, op: 'handover' }),
  };

  return {
    runtime,
    driver,
    /** The host agents' connections (routes/agent-router.ts accepts them). */
    agentHub,
    /** Instances on hosts (tests read what it remembers). */
    agentDriver,
    engine,
    port,
    get isWorker() {
      return opts.worker;
    },
    /** The instance health monitor of this process (worker role), leader or standing by. */
    get healthMonitor() {
      return monitor;
    },
    /** The reconcile loop of this process (worker role), leader or standing by. */
    get reconciler() {
      return reconciler;
    },
    wake,
    /** Starts the queue; in the worker role also re-adopts the runtime and resumes deployments. */
    async start() {
      // Agents are served by every process (agent-hub.ts): the hubs join through PostgreSQL.
      await agentHub.listen();
      if (!opts.worker) return;
      await ensureStarted();
      await runtime.adoptAll();
      const n = opts.concurrency ?? 4;
      for (let i = 0; i < n; i++) {
        workerIds.push(
          await boss.work<{ deploymentId: string }>(
            DRIVE_QUEUE,
            { batchSize: 1, pollingIntervalSeconds: 0.5 },
            async ([job]) => {
              if (job) await drive(job.data.deploymentId);
            },
          ),
        );
      }
      for (let i = 0; i < 2; i++) {
        workerIds.push(
          await boss.work<RoutingJob>(
            ROUTING_QUEUE,
            { batchSize: 1, pollingIntervalSeconds: 0.5 },
            async ([job]) => {
              if (job) await runRoutingJob(job.data);
            },
          ),
        );
      }
      const resumed = await deployments.listUnfinished();
      for (const d of resumed) await wake(d.id);
      if (resumed.length) log.info({ deployments: resumed.length }, 'resuming unfinished deployments');
      const every = opts.sweepIntervalMs ?? 5_000;
      sweeper = setInterval(() => {
        sweep().catch((err) => log.warn({ err }, 'sweep failed'));
      }, every);
      sweeper.unref();
      const monitorEvery = opts.healthMonitorIntervalMs ?? 5_000;
      if (monitorEvery > 0) {
        monitor = createHealthMonitor({
          db,
          driver,
          engine,
          intervalMs: monitorEvery,
          log,
          recordOom: appendInstanceOomKilled,
        });
        monitor.start();
      }
      const reconcileEvery = opts.reconcileIntervalMs ?? 1_000;
      if (reconcileEvery > 0) {
        reconciler = createReconciler({ db, driver, runtime, engine, intervalMs: reconcileEvery, log });
        reconciler.start();
      }
      agentHub.start();
      replacer = setInterval(() => {
        if (toReplace.size > 0) void replacePending();
      }, 1_000);
      replacer.unref();
    },
    /** Graceful: in-flight commands are abandoned where they stand (resume re-runs them), leases released. */
    async stop() {
      if (sweeper) clearInterval(sweeper);
      if (replacer) clearInterval(replacer);
      await agentHub.stop();
      await reconciler?.stop();
      await monitor?.stop();
      stopController.abort();
      await Promise.allSettled([...driving.values()]);
      if (started) await boss.stop({ graceful: true, wait: true, timeout: 10_000 }).catch(() => {});
      started = false;
      targets.close();
    },
  };
}
export type Orchestrator = ReturnType<typeof createOrchestrator>;
