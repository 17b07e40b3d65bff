// The runtime side of an environment: its traffic router (one process per environment, the
// stable `address`) and its instances (processes under the local driver). Both outlive the
// control plane; the database remembers them so the next start re-adopts them.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { Color, Weights } from '@qubot/core';
import {
  createEnvironmentRepo,
  createInstanceRepo,
  createTransact,
  type Database,
  type InstanceRow,
  type RouterUpdate,
  setLockTimeout,
  type Tx,
} from '@qubot/db';
import {
  adoptRouter,
  freePort,
  isRouterProcess,
  type LocalDriver,
  RouterClient,
  type RouterConfig,
  startRouter,
  stopRouter,
} from '@qubot/runtime';
import { appendEnvironmentUpdated } from '../views/environment-events.ts';

export interface RuntimeLog {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

const POOLS: Color[] = ['blue', 'green'];

/** The environment columns a router record needs. */
export interface RouterEnv {
  id: string;
  applicationId: string;
  name: string;
  routerPid: number | null;
  routerStatus: string | null;
}
const target = (i: { port: number }) => `127.0.0.1:${i.port}`;

/** Parses the router's Prometheus text for its all-pool totals. */
export function parseRouterTotals(text: string): { requests: number; errors: number } {
  let requests = 0;
  let errors = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('qubot_router_requests_total{')) requests += Number(line.split(' ').pop()) || 0;
    else if (line.startsWith('qubot_router_errors_total{')) errors += Number(line.split(' ').pop()) || 0;
  }
  return { requests, errors };
}

export function createEnvironmentRuntime(deps: {
  db: Pick<Database, 'prisma'>;
  driver: LocalDriver;
  dataDir: string;
  log: RuntimeLog;
}) {
  const { prisma } = deps.db;
  const instances = createInstanceRepo(prisma);
  const environments = createEnvironmentRepo(prisma);
  const transact = createTransact(prisma);
  const starting = new Map<string, Promise<RouterClient>>();

  function clientFor(env: { routerControlPort: number | null; routerSecret: string | null }) {
    if (!env.routerControlPort || !env.routerSecret) return null;
    return new RouterClient({
      controlUrl: `http://127.0.0.1:${env.routerControlPort}`,
      secret: env.routerSecret,
      timeoutMs: 5_000,
    });
  }

  /**
   * Records the router's state in the environment's row: each step one update, and an
   * `environment.updated` after it when dashboards must see it. Inside the caller's transaction
   * when there is one (it may hold the environment's row lock); otherwise in one of its own that
   * waits at most 2 s for that lock, so a router start never waits on a transaction that is itself
   * waiting for this router (the 20 s traffic request of issue 8). A step with `ifPid` applies only
   * while the row still names that router process (two adopters record one outage once); when it
   * does not, nothing is written. A write given up keeps the router; whoever adopts it next finds
   * a pid the row does not name and records the outage then (`recordAdopted`).
   */
  async function recordRouter(
    env: RouterEnv,
    steps: { data: RouterUpdate; announce: boolean; ifPid?: number | null }[],
    tx?: Tx,
  ): Promise<boolean> {
    const run = async (t: Tx, bounded: boolean) => {
      for (const [i, step] of steps.entries()) {
        const written = await environments.updateRouter(env.id, step.data, step.ifPid, t);
        if (written === 0) return false;
        // The bound is on the row lock only: the event counter's lock is waited for as every
        // writer does.
        if (bounded && i === 0) await setLockTimeout(t, 0);
        if (step.announce) await appendEnvironmentUpdated(t, env);
      }
      return true;
    };
    if (tx) return run(tx, false);
    try {
      return await transact(
        async (t) => {
          await setLockTimeout(t, 2_000);
          return run(t, true);
        },
        { maxWait: 10_000, timeout: 20_000 },
      );
    } catch (err) {
      deps.log.warn(
        { err, environmentId: env.id },
        'router state not recorded now (environment busy); next round',
      );
      return false;
    }
  }

  /**
   * The steps of an outage: the router that ran before is gone (users' requests to the address
   * failed) and another one serves now. Always `down` with its time, then `up` with the restart
   * counted, both announced and committed together — so whoever restarts a router (the reconcile
   * loop, a deployment, a traffic change, start-up) cannot leave the outage out of the record.
   */
  function outageSteps(env: RouterEnv, up: RouterUpdate, ifPid?: number | null) {
    return [
      ...(env.routerStatus === 'down'
        ? []
        : [{ data: { routerStatus: 'down', routerOutageAt: new Date() }, announce: true, ifPid }]),
      {
        data: { ...up, routerStatus: 'up', routerRestarts: { increment: 1 } },
        announce: true,
        ...(env.routerStatus === 'down' ? { ifPid } : {}),
      },
    ];
  }

  /**
   * A router answering on the environment's ports, found by `adoptRouter`: record it. A process
   * other than the one the row names means the one named died and a restart went unrecorded (its
   * write was given up, or its transaction rolled back): the outage is recorded now, once.
   */
  async function recordAdopted(env: RouterEnv, pid: number, tx?: Tx): Promise<boolean> {
    if (pid === env.routerPid && env.routerStatus === 'up') return true;
    if (env.routerPid !== null && pid !== env.routerPid) {
      return recordRouter(env, outageSteps(env, { routerPid: pid }, env.routerPid), tx);
    }
    return recordRouter(
      env,
      [{ data: { routerPid: pid, routerStatus: 'up' }, announce: env.routerStatus !== 'up' }],
      tx,
    );
  }

  async function startFor(environmentId: string, tx?: Tx): Promise<RouterClient> {
    const env = await environments.get(environmentId, tx);
    if (env.routerPort && env.routerControlPort && env.routerSecret) {
      const adopted = await adoptRouter({
        pid: env.routerPid ?? 0,
        port: env.routerPort,
        controlPort: env.routerControlPort,
        secret: env.routerSecret,
        timeoutMs: 3_000,
      });
      if (adopted) {
        await recordAdopted(env, adopted.pid, tx);
        return adopted.client;
      }
    }
    // Alive but not answering in time (a busy machine): starting another one would only find its
    // ports taken and move the address. Try again later.
    if (isRouterProcess(env.routerPid)) {
      throw new Error(`router ${env.routerPid} is running but did not answer; not starting another`);
    }
    const secret = env.routerSecret ?? randomBytes(24).toString('hex');
    const dir = join(deps.dataDir, 'routers', environmentId);
    const attempt = async (port: number, controlPort: number) =>
      startRouter({
        port,
        controlPort,
        secret,
        stateFile: join(dir, 'state.json'),
        logFile: join(dir, 'router.log'),
      });
    let proc: Awaited<ReturnType<typeof startRouter>>;
    try {
      // Same ports as before when we can: the address is what people and scripts have bookmarked.
      proc = await attempt(env.routerPort ?? (await freePort()), env.routerControlPort ?? (await freePort()));
    } catch (err) {
      if (!env.routerPort || !env.routerControlPort) throw err;
      // A router of ours that answers there, only slowly (or one whose pid was not recorded):
      // the address must not move away from it.
      const there = new RouterClient({
        controlUrl: `http://127.0.0.1:${env.routerControlPort}`,
        secret: '',
        timeoutMs: 10_000,
      });
      if (
        await there.health().then(
          () => true,
          () => false,
        )
      )
        throw err;
      deps.log.warn({ err, environmentId }, 'router ports taken; starting the router on new ports');
      proc = await attempt(await freePort(), await freePort());
    }
    // A router that ran before and had to be started again: an outage users saw.
    const restart = env.routerPort !== null;
    const fields = {
      routerPid: proc.pid,
      routerPort: proc.port,
      routerControlPort: proc.controlPort,
      routerSecret: secret,
      address: proc.address,
    };
    const recorded = await recordRouter(
      env,
      restart ? outageSteps(env, fields) : [{ data: { ...fields, routerStatus: 'up' }, announce: false }],
      tx,
    );
    if (!recorded && proc.port !== env.routerPort) {
      // The address moved and nobody knows: do not leave a router nobody can find.
      await stopRouter(proc.pid, 2_000);
      throw new Error('router started on new ports but the environment could not be updated');
    }
    deps.log.info(
      { environmentId, address: proc.address, pid: proc.pid, restart },
      restart ? 'traffic router started again' : 'traffic router started',
    );
    return proc.client;
  }

  /**
   * The environment's router, adopted or started (one start at a time per environment). Pass the
   * transaction when the caller holds the environment's row lock.
   */
  function ensureRouter(environmentId: string, tx?: Tx): Promise<RouterClient> {
    let p = starting.get(environmentId);
    if (!p) {
      p = startFor(environmentId, tx).finally(() => starting.delete(environmentId));
      starting.set(environmentId, p);
    }
    return p;
  }

  /**
   * Routing table from the database: each pool's healthy running instances (never those being
   * stopped), weighted as given. A pool without targets cannot carry weight.
   */
  function buildConfig(live: InstanceRow[], weights: Weights): RouterConfig {
    const pools = POOLS.flatMap((pool) => {
      const members = live.filter((i) => i.pool === pool && i.status === 'running' && i.healthy);
      if (members.length === 0) return [];
      return [
        {
          name: pool,
          version: members[members.length - 1]?.release.version ?? 'none',
          weight: weights[pool],
          targets: members.map(target),
        },
      ];
    });
    return { pools };
  }

  async function currentWeights(environmentId: string, tx?: Tx): Promise<Weights> {
    const env = await environments.get(environmentId, tx);
    const w: Weights = { blue: 0, green: 0 };
    for (const t of (Array.isArray(env.traffic) ? env.traffic : []) as { pool: Color; weight: number }[]) {
      if (t.pool === 'blue' || t.pool === 'green') w[t.pool] = t.weight;
    }
    return w;
  }

  /**
   * Push the routing table to the router; `weights` defaults to what the environment has now. A
   * dead router is started again first (same ports, its saved table), so this also heals. Called
   * inside a transaction that holds the environment's row lock, pass it as `tx`: nothing here then
   * waits on that lock.
   */
  async function applyRouting(environmentId: string, weights?: Weights, tx?: Tx) {
    const client = await ensureRouter(environmentId, tx);
    const live = await instances.listLive(environmentId, undefined, tx);
    const config = buildConfig(live, weights ?? (await currentWeights(environmentId, tx)));
    await client.setConfig(config);
    return { client, config };
  }

  /** Router totals now, or null when the environment has no router (yet). */
  async function sampleTraffic(environmentId: string) {
    const env = await environments.findById(environmentId);
    const client = env ? clientFor(env) : null;
    if (!client) return null;
    try {
      return parseRouterTotals(await client.metrics());
    } catch {
      return null;
    }
  }

  /**
   * After a control-plane restart: routers and instances kept running; find them again
   * (pid, port, health). A router that died is started again on its ports with its saved table.
   */
  async function adoptAll() {
    const envs = await environments.listWithRouter();
    for (const env of envs) {
      try {
        await ensureRouter(env.id);
      } catch (err) {
        deps.log.warn({ err, environment: env.name }, 'could not adopt or restart the traffic router');
      }
    }
    const rows = await instances.listAllLive();
    const results = await deps.driver.adopt(
      rows.map((r) => ({
        id: r.id,
        port: r.port,
        ...(r.supervisorPid ? { supervisorPid: r.supervisorPid } : {}),
      })),
    );
    let alive = 0;
    for (const r of results) {
      const row = rows.find((x) => x.id === r.id);
      if (!row) continue;
      if (r.alive && r.record) {
        alive++;
        await instances.update(row.id, {
          pid: r.record.pid,
          supervisorPid: r.record.supervisorPid,
          healthy: r.healthy,
          status: row.status === 'stopping' ? 'stopping' : r.healthy ? 'running' : 'unhealthy',
          lastHealthAt: new Date(),
        });
      } else if (row.status === 'stopping') {
        // Its supervisor is gone; an instance it left behind must not outlive the row.
        await deps.driver.stop({ id: row.id }, { timeoutMs: 5_000 }).catch(() => {});
        await instances.update(row.id, { status: 'stopped', healthy: false, stoppedAt: new Date() });
      } else {
        // The supervisor died with (or without) us: put a new one over the instance, which keeps
        // its id and port, so nothing is started twice and nothing is left running uncounted.
        const back = await deps.driver.resupervise(row.id).catch(() => null);
        if (back) {
          alive++;
          await instances.update(row.id, {
            supervisorPid: back.record.supervisorPid,
            ...(back.record.pid ? { pid: back.record.pid } : {}),
          });
          continue;
        }
        // Nothing on disk: the row was written, the process never spawned (the driver writes its
        // files first). It never ran, so it is not a crashed instance the environment still has.
        await instances.update(row.id, { status: 'stopped', healthy: false, stoppedAt: new Date() });
      }
    }
    deps.log.info({ routers: envs.length, instances: rows.length, alive }, 'runtime re-adopted');
    return { routers: envs.length, instances: rows.length, alive };
  }

  /** Stops every instance and router of every environment (demo clean stop, tests). */
  async function stopEverything() {
    const envs = await environments.listWithApplicationName();
    const rows = await instances.listAllLive();
    await Promise.all(rows.map((r) => deps.driver.stop({ id: r.id }, { timeoutMs: 5_000 }).catch(() => {})));
    await instances.markMany(
      rows.map((r) => r.id),
      { status: 'stopped', healthy: false, stoppedAt: new Date() },
    );
    for (const env of envs) await deps.driver.stopAll(`${env.application.name}/${env.name}`).catch(() => {});
    await Promise.all(envs.map((e) => (e.routerPid ? stopRouter(e.routerPid, 5_000) : Promise.resolve())));
    await environments.forgetRouters();
  }

  return {
    ensureRouter,
    recordRouter,
    recordAdopted,
    applyRouting,
    buildConfig,
    currentWeights,
    sampleTraffic,
    adoptAll,
    stopEverything,
    clientFor,
  };
}
export type EnvironmentRuntime = ReturnType<typeof createEnvironmentRuntime>;
