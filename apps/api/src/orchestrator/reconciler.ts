// The reconcile loop: desired state lives in PostgreSQL, and every second one process of the
// cluster (whoever holds the advisory lock, as for the health monitor) makes the processes match
// it, whatever killed them — level triggered, like a Kubernetes controller: each round looks at
// what is, not at what happened.
//
// Per environment that has a router (live `environments` and `instances` rows only; no history
// table is read, except the open-work partial index of `deployments`):
// 1. Router. Not answering on its control port (killed, crashed): the environment is marked
//    `router.status: down` (with an `environment.updated` event: dashboards show the outage), the
//    router is started again on the same ports with its saved routing table, then marked `up`.
// 2. Supervisors. An instance whose supervisor died gets a new one, which adopts the instance
//    process still running (no restart, same port) or starts it again; the row keeps its id, so the
//    replica count does not move. Nothing on disk to supervise from: the row is marked crashed.
// 3. Routing. With no deployment at work on the environment, the router's table is compared with
//    the one the database describes (each pool's healthy instances, the environment's weights)
//    and replaced when they differ — under the environment's row lock, skipped while someone else
//    holds it (a traffic change, a deployment being created), so it never undoes their work.
//    While the event counter has not moved since a round found the table in order (every change
//    to instances or weights commits an event), the next rounds compare the router's table with
//    that one without reading the database; a full check runs at least every `fullCheckMs`.
// See docs/operations.md, "The reconcile loop".
import type { Color, Weights } from '@qubot/core';
import {
  createDeploymentWriteRepo,
  createEnvironmentRepo,
  createInstanceRepo,
  createTransact,
  type Database,
  type InstanceRow,
} from '@qubot/db';
import { instanceTarget, type RouterConfig, type RuntimeDriver } from '@qubot/runtime';
import { createClusterTask } from '../lib/cluster-task.ts';
import type { Engine } from './engine.ts';
import type { EnvironmentRuntime } from './runtime.ts';

const LOCK_NAMESPACE = 0x51b3;
const POOLS: Color[] = ['blue', 'green'];
/** Failed checks in a row after which a router process that is alive but silent is replaced. */
const HUNG_AFTER_CHECKS = 10;

export interface ReconcilerOptions {
  db: Pick<Database, 'url' | 'prisma' | 'pool'>;
  driver: Pick<RuntimeDriver, 'status' | 'resupervise' | 'stop'>;
  runtime: Pick<
    EnvironmentRuntime,
    'ensureRouter' | 'buildConfig' | 'currentWeights' | 'recordRouter' | 'recordAdopted' | 'providerFor'
  >;
  engine: Pick<Engine, 'announce'>;
  intervalMs: number;
  /**
   * Failed control-API checks in a row before a router whose process is still alive counts as
   * down (a busy machine answers late); a dead process counts at once. Default 2.
   */
  failureThreshold?: number;
  log: { warn(obj: object, msg: string): void; info(obj: object, msg: string): void };
  /**
   * Longest time the routing check trusts an unmoved event counter (then reads the database
   * again); default 10 s.
   */
  fullCheckMs?: number;
}

/** Same routing whatever the order: pools by name, their targets as a set. */
export function sameRouting(a: RouterConfig, b: RouterConfig): boolean {
  const norm = (c: RouterConfig) =>
    JSON.stringify(
      [...c.pools]
        .sort((x, y) => x.name.localeCompare(y.name))
        .map((p) => [p.name, p.version, p.weight, [...p.targets].sort()]),
    );
  return norm(a) === norm(b);
}

/**
 * The table the database describes. As the deployments build it (healthy instances only), except
 * that a pool carrying weight whose instances all look unhealthy keeps them: a slow health check
 * on a busy machine must not turn into every request refused.
 */
export function desiredRouting(
  build: (live: InstanceRow[], weights: Weights) => RouterConfig,
  live: InstanceRow[],
  weights: Weights,
): RouterConfig {
  const config = build(live, weights);
  for (const pool of POOLS) {
    if (weights[pool] <= 0 || config.pools.some((p) => p.name === pool)) continue;
    const members = live.filter(
      (i) => i.pool === pool && (i.status === 'running' || i.status === 'unhealthy'),
    );
    if (members.length === 0) continue;
    config.pools.push({
      name: pool,
      version: members[members.length - 1]?.release.version ?? 'none',
      weight: weights[pool],
      targets: members.map(instanceTarget),
    });
  }
  return config;
}

interface EnvRow {
  id: string;
  applicationId: string;
  name: string;
  trafficProvider: string;
  routerPid: number | null;
  routerPort: number | null;
  routerControlPort: number | null;
  routerSecret: string | null;
  routerStatus: string | null;
  liveReleaseId: string | null;
}

export function createReconciler(opts: ReconcilerOptions) {
  const { prisma } = opts.db;
  const instances = createInstanceRepo(prisma);
  const environments = createEnvironmentRepo(prisma);
  const deployments = createDeploymentWriteRepo(prisma);
  const transact = createTransact(prisma);
  const failureThreshold = Math.max(1, opts.failureThreshold ?? 2);
  const fullCheckMs = opts.fullCheckMs ?? 10_000;
  /**
   * Per environment, the table a full routing check found the router serving, and the event
   * counter read before that check: while the counter stays, the database describes that table.
   * The rounds of an idle cluster were the worker's largest steady cost (about eight queries per
   * environment a second, each through Prisma's query compiler: bench/README.md, "The read path").
   */
  const inOrder = new Map<string, { seq: string; at: number; table: RouterConfig }>();
  const routingChecks = { full: 0, quick: 0 };
  const readSeq = () =>
    opts.db.pool
      .query<{ v: string }>({
        name: 'qubot_reconcile_seq',
        text: 'SELECT value::text AS v FROM event_counter WHERE id = 1',
      })
      .then(({ rows }) => rows[0]?.v ?? '0');
  /** Consecutive failed router checks per environment (the leader's memory). */
  const routerFailures = new Map<string, number>();

  // Generous waits: on a busy machine a transaction may wait seconds for a pooled connection.
  const TX = { maxWait: 10_000, timeout: 20_000 };
  const announce = (environmentId: string) =>
    transact((tx) => opts.engine.announce(tx, null, environmentId), TX);

  async function reconcileRouter(env: EnvRow): Promise<'up' | 'restarted' | 'down'> {
    if (env.routerStatus === 'handover') {
      // A change of traffic provider that its worker did not finish (it crashed): finish it.
      try {
        await opts.runtime.ensureRouter(env.id);
        return 'restarted';
      } catch (err) {
        opts.log.warn({ err, environment: env.name }, 'could not finish the traffic provider handover');
        return 'down';
      }
    }
    const provider = opts.runtime.providerFor(env, { timeoutMs: 2_000 });
    if (!provider) return 'up';
    const adopted = await provider.adopt();
    if (adopted) {
      routerFailures.delete(env.id);
      await opts.runtime.recordAdopted(env, adopted.pid);
      return 'up';
    }
    const failures = (routerFailures.get(env.id) ?? 0) + 1;
    routerFailures.set(env.id, failures);
    const alive = provider.isRunning();
    if (alive && failures < failureThreshold) return 'up';
    // Users' requests to the address fail right now: say so before anything else.
    opts.log.warn(
      { environment: env.name, provider: provider.kind, pid: env.routerPid, address: provider.address },
      'traffic router is down; starting it again',
    );
    // Not recorded now (someone holds the environment's row): whoever starts the router again
    // records the outage with the restart (runtime.recordRouter), so it is never left out.
    if (env.routerStatus !== 'down') {
      await opts.runtime.recordRouter(env, [
        { data: { routerStatus: 'down', routerOutageAt: new Date() }, announce: true, ifPid: env.routerPid },
      ]);
    }
    try {
      if (alive) {
        // Running but not answering: give it time (a busy machine), then replace a hung one.
        if (failures < HUNG_AFTER_CHECKS) return 'down';
        opts.log.warn({ environment: env.name, pid: env.routerPid }, 'traffic router hung; replacing it');
        await provider.stop(2_000);
      }
      // Started again and recorded (`up`, the restart counted, announced) by the runtime.
      await opts.runtime.ensureRouter(env.id);
      routerFailures.delete(env.id);
    } catch (err) {
      opts.log.warn({ err, environment: env.name }, 'could not start the traffic router again');
      return 'down';
    }
    return 'restarted';
  }

  async function reconcileSupervisors(env: EnvRow) {
    const rows = await instances.listSettled(env.id);
    let changed = 0;
    for (const row of rows) {
      const st = await opts.driver.status({ id: row.id });
      if (st.supervisorAlive) {
        // A supervisor put back earlier whose row write did not land: record it now.
        if (st.supervisorPid !== row.supervisorPid) {
          await instances.updateIfSettled(row.id, { supervisorPid: st.supervisorPid });
        }
        continue;
      }
      if (st.state === 'unknown' && st.supervisorPid === null) continue;
      const back = await opts.driver.resupervise(row.id);
      if (!back) {
        changed += await instances.updateIfSettled(row.id, {
          status: 'crashed',
          healthy: false,
          stoppedAt: new Date(),
        });
        opts.log.warn(
          { environment: env.name, instance: row.id },
          'supervisor gone and nothing to restart from',
        );
        continue;
      }
      const written = await instances.updateIfSettled(row.id, {
        supervisorPid: back.record.supervisorPid,
        ...(back.record.pid ? { pid: back.record.pid } : {}),
      });
      if (written === 0) {
        // The row moved on meanwhile (a deployment is stopping it, or gave up on it): leave no
        // process behind that nobody counts.
        await opts.driver.stop({ id: row.id }, { timeoutMs: 5_000 });
        continue;
      }
      changed++;
      opts.log.warn(
        { environment: env.name, instance: row.id, supervisorPid: back.record.supervisorPid },
        back.adopted
          ? 'instance supervisor was gone; a new one adopted the running instance'
          : 'instance and its supervisor were gone; started it again on its port',
      );
    }
    if (changed > 0) await announce(env.id).catch(() => {});
    return changed;
  }

  /** Router table ← database, when nobody else is acting on the environment. */
  async function reconcileRouting(env: EnvRow, seq: string | null): Promise<boolean> {
    if (!env.liveReleaseId || env.routerStatus === 'handover') return false;
    const known = inOrder.get(env.id);
    inOrder.delete(env.id);
    if (known && seq !== null && known.seq === seq && Date.now() - known.at < fullCheckMs) {
      // Nothing committed since the table was found in order: only the router can have moved.
      const provider = opts.runtime.providerFor(env, { timeoutMs: 2_000 });
      if (provider && sameRouting(await provider.getConfig(), known.table)) {
        routingChecks.quick++;
        inOrder.set(env.id, known);
        return false;
      }
    }
    routingChecks.full++;
    let found: RouterConfig | null = null;
    const replaced = await transact(
      async (tx) => {
        const locked = await environments.tryLock(env.id, tx);
        if (!locked || (await deployments.hasOpenWork(env.id, tx))) return false;
        // A provider handover that began since this round read the row: it writes the row when
        // done, so waiting for its router here while holding the row lock would deadlock.
        if ((await environments.get(env.id, tx)).routerStatus === 'handover') return false;
        const live = await instances.listLive(env.id, undefined, tx);
        const desired = desiredRouting(
          opts.runtime.buildConfig,
          live,
          await opts.runtime.currentWeights(env.id, tx),
        );
        const provider = await opts.runtime.ensureRouter(env.id, tx);
        const actual = await provider.getConfig();
        if (sameRouting(actual, desired)) {
          found = desired;
          return false;
        }
        await provider.setConfig(desired);
        opts.log.info(
          { environment: env.name, from: actual.pools, to: desired.pools },
          'router table differed from the database; replaced',
        );
        return true;
      },
      { timeout: 15_000 },
    );
    if (found && seq !== null) inOrder.set(env.id, { seq, at: Date.now(), table: found });
    return replaced;
  }

  /** One round over every environment that has a router. */
  async function reconcileAll() {
    // Read before anything else: a change committed after it moves the counter for the next round.
    const seq = await readSeq().catch(() => null);
    const envs: EnvRow[] = await environments.listWithRouter();
    const results = await Promise.all(
      envs.map(async (env) => {
        const out = { environment: env.name, router: 'up' as string, supervisors: 0, routing: false };
        try {
          out.router = await reconcileRouter(env);
          out.supervisors = await reconcileSupervisors(env);
          if (out.router !== 'down')
            out.routing = await reconcileRouting(env, out.router === 'up' ? seq : null);
        } catch (err) {
          opts.log.warn({ err, environment: env.name }, 'reconcile round failed for this environment');
        }
        return out;
      }),
    );
    return results;
  }

  const task = createClusterTask({
    url: opts.db.url,
    namespace: LOCK_NAMESPACE,
    name: 'reconciler',
    intervalMs: opts.intervalMs,
    round: async () => {
      await reconcileAll();
    },
    onError: (err) => opts.log.warn({ err }, 'reconcile round failed'),
  });

  return {
    start: task.start,
    stop: task.stop,
    isLeader: task.isLeader,
    rounds: task.rounds,
    reconcileAll,
    /** Routing checks so far: `full` read the database, `quick` trusted the unmoved event counter. */
    routingChecks: () => ({ ...routingChecks }),
  };
}
export type Reconciler = ReturnType<typeof createReconciler>;
