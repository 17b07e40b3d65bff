// The runtime side of an environment: its traffic router (one process per environment, the
// stable `address`, served by the environment's traffic provider: the embedded Node router or
// HAProxy) and its instances (under the runtime driver, by default the local one: processes on this
// machine). Both outlive the control plane; the database remembers them so the next start
// re-adopts them. The orchestrator sees a router only through the `TrafficProvider` interface of
// @qubot/runtime, and instances only through `RuntimeDriver`, at the addresses the driver gave.
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
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
  freePort,
  HaproxyAdmin,
  HaproxyProvider,
  haproxyAdminSocketOf,
  instanceTarget,
  type KubernetesDriver,
  KubernetesTrafficProvider,
  NodeRouterProvider,
  type PoolWindowStats,
  RouterClient,
  type RouterConfig,
  type RuntimeDriver,
  signal,
  TotalsWindow,
  type TrafficProvider,
  type TrafficTotals,
  toPoolWindowStats,
  waitForExit,
} from '@qubot/runtime';
import { appendEnvironmentUpdated } from '../views/environment-events.ts';
import { desiredRouting } from './reconciler.ts';

export interface RuntimeLog {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

const POOLS: Color[] = ['blue', 'green'];

/** The traffic providers an environment can use (its `trafficProvider` setting). */
export const TRAFFIC_PROVIDERS = ['node', 'haproxy'] as const;
export type TrafficProviderKind = (typeof TRAFFIC_PROVIDERS)[number];
export const isTrafficProviderKind = (v: unknown): v is TrafficProviderKind =>
  (TRAFFIC_PROVIDERS as readonly unknown[]).includes(v);
/** How long a handover lets the old router finish its in-flight requests before forcing it. */
const HANDOVER_DRAIN_MS = 15_000;
/** The handover's writes wait for the environment's row like any writer, generously. */
const HANDOVER_TX = { maxWait: 10_000, timeout: 20_000 };
/**
 * How long a handover waits for a router of the new kind that runs but does not answer yet (one a
 * crashed worker started) before it replaces it: a router's own start timeout.
 */
const LATE_ROUTER_MS = 15_000;

/** The environment columns a router record needs. */
export interface RouterEnv {
  id: string;
  applicationId: string;
  name: string;
  routerPid: number | null;
  routerStatus: string | null;
}

/** The environment columns its traffic provider is built from. */
export interface ProviderEnv {
  id: string;
  trafficProvider: string;
  /** `kubernetes`: the cluster routes (the Kubernetes traffic provider, whatever `trafficProvider` says). */
  runtimeTarget?: string;
  address?: string | null;
  routerPid: number | null;
  routerPort: number | null;
  routerControlPort: number | null;
  routerSecret: string | null;
}

export interface ProviderOverrides {
  kind?: TrafficProviderKind;
  port?: number;
  controlPort?: number;
  secret?: string;
  healthPath?: string;
  /** Control-API / admin-socket answer timeout. */
  timeoutMs?: number;
  /** Node router: keep trying to bind the port while another router still holds it (a handover). */
  takeover?: boolean;
}

/** Whether nothing listens on 127.0.0.1:`port` (a listen there succeeds; closed again at once). */
function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => server.close(() => resolve(true)));
  });
}

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

/** Per-pool figures over a window, whatever the provider: the Node router's, or from totals. */
export interface TrafficWindow {
  pools: PoolWindowStats[];
  /** Why no latency figures are given, when they are not (`p95` null for every pool). */
  latencyUnavailable: string | null;
}

export function createEnvironmentRuntime(deps: {
  db: Pick<Database, 'prisma'>;
  driver: RuntimeDriver;
  dataDir: string;
  log: RuntimeLog;
  /** The Kubernetes driver and `<app>/<env>` of an environment whose runtime target is kubernetes. */
  kubernetes?: (environmentId: string) => Promise<{ driver: KubernetesDriver; environment: string } | null>;
}) {
  const { prisma } = deps.db;
  const instances = createInstanceRepo(prisma);
  const environments = createEnvironmentRepo(prisma);
  const transact = createTransact(prisma);
  const starting = new Map<string, Promise<TrafficProvider>>();
  /** Totals readings per environment, for providers without window figures of their own. */
  const windows = new Map<string, TotalsWindow>();

  const routerDir = (environmentId: string) => join(deps.dataDir, 'routers', environmentId);
  // Short: the admin socket's path must fit a unix socket address.
  const haproxyDir = (environmentId: string) => join(deps.dataDir, 'hap', environmentId.replaceAll('-', ''));

  /**
   * The environment's traffic provider (`kind`: its setting unless given), bound to its address;
   * null while it has no address yet. Cheap: the state is in the router process and its files.
   */
  function providerFor(env: ProviderEnv, o: ProviderOverrides = {}): TrafficProvider | null {
    const cluster = deps.kubernetes;
    if (!o.kind && env.runtimeTarget === 'kubernetes' && cluster) {
      return new KubernetesTrafficProvider({
        address: env.address ?? null,
        resolve: async () => {
          const k = await cluster(env.id);
          if (!k) throw new Error('the environment no longer targets kubernetes');
          return k;
        },
      });
    }
    const kind = o.kind ?? (isTrafficProviderKind(env.trafficProvider) ? env.trafficProvider : 'node');
    const port = o.port ?? env.routerPort;
    if (!port) return null;
    if (kind === 'haproxy') {
      return new HaproxyProvider({
        dir: haproxyDir(env.id),
        port,
        ...(o.healthPath ? { healthPath: o.healthPath } : {}),
        ...(o.timeoutMs ? { adminTimeoutMs: o.timeoutMs } : {}),
        log: (msg, extra) => deps.log.info({ environmentId: env.id, ...extra }, msg),
      });
    }
    const controlPort = o.controlPort ?? env.routerControlPort;
    const secret = o.secret ?? env.routerSecret;
    if (!controlPort || !secret) return null;
    const dir = routerDir(env.id);
    return new NodeRouterProvider({
      port,
      controlPort,
      secret,
      stateFile: join(dir, 'state.json'),
      logFile: join(dir, 'router.log'),
      pid: env.routerPid,
      timeoutMs: o.timeoutMs ?? 5_000,
      ...(o.takeover ? { bindRetryMs: HANDOVER_DRAIN_MS + 10_000 } : {}),
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

  /**
   * Another kind's router still answering there, nothing on our side: whoever holds the port is
   * ours and only slow, so the address must not move away from it.
   */
  async function stillOursThere(env: ProviderEnv, kind: TrafficProviderKind): Promise<boolean> {
    if (kind === 'haproxy') {
      const admin = new HaproxyAdmin(haproxyAdminSocketOf(resolve(haproxyDir(env.id))), 10_000);
      return admin.showInfo().then(
        (info) => Boolean(info.Pid),
        () => false,
      );
    }
    if (!env.routerControlPort) return false;
    const there = new RouterClient({
      controlUrl: `http://127.0.0.1:${env.routerControlPort}`,
      secret: '',
      timeoutMs: 10_000,
    });
    return there.health().then(
      () => true,
      () => false,
    );
  }

  /**
   * Stops, gracefully, every router of a kind other than `kind` still running for the environment:
   * resolves once none of them listens on the port any more (so another router can bind it), with
   * `exited` resolving when they have finished their in-flight requests and are gone.
   */
  async function stopOtherKinds(
    env: ProviderEnv,
    kind: TrafficProviderKind,
    waitForPort = true,
  ): Promise<{ pids: number[]; exited: Promise<void> }> {
    const pids: number[] = [];
    const stops: Promise<void>[] = [];
    for (const other of TRAFFIC_PROVIDERS) {
      if (other === kind) continue;
      // Any port will do for the handle: stopping goes by the process, not by the address.
      const p = providerFor(env, {
        kind: other,
        port: env.routerPort ?? 1,
        controlPort: env.routerControlPort ?? 1,
        secret: env.routerSecret ?? 'x',
        timeoutMs: 2_000,
      });
      if (!p) continue;
      const found = (await p.adopt().catch(() => null))?.pid ?? (p.isRunning() ? p.pid : null);
      if (!found && !p.isRunning()) continue;
      if (found) pids.push(found);
      stops.push(p.stop(HANDOVER_DRAIN_MS));
    }
    const exited = Promise.all(stops).then(() => {});
    if (waitForPort && stops.length > 0 && env.routerPort) {
      // The old router closes its listener at once and keeps running until its requests are done:
      // the port is free long before the process is gone.
      const deadline = Date.now() + HANDOVER_DRAIN_MS + 5_000;
      let gone = false;
      void exited.then(() => {
        gone = true;
      });
      while (!gone && Date.now() < deadline && !(await portFree(env.routerPort))) {
        await new Promise((r) => setTimeout(r, 5));
      }
    }
    return { pids, exited };
  }

  /** The routing table the database describes now (what a router that starts afresh must serve). */
  async function desiredNow(environmentId: string, tx?: Tx): Promise<RouterConfig> {
    const live = await instances.listLive(environmentId, undefined, tx);
    return desiredRouting(buildConfig, live, await currentWeights(environmentId, tx));
  }

  /** What a Node router's control API answers on `controlPort` (`/healthz`), or null. */
  const controlAnswer = (controlPort: number, secret: string) =>
    new RouterClient({ controlUrl: `http://127.0.0.1:${controlPort}`, secret, timeoutMs: 2_000 })
      .health()
      .catch(() => null);

  /**
   * The new kind's router, adopted — also one that a worker started just before it crashed and that
   * is still starting (a busy machine): it runs, holds its ports and has not answered yet. It is
   * waited for (LATE_ROUTER_MS), never doubled: a second start would fail on its ports and send
   * the environment back to the old kind. One that never answers is stopped; null then, or when
   * none runs.
   */
  async function adoptLate(next: TrafficProvider, environment: string) {
    let proc = await next.adopt().catch(() => null);
    const deadline = Date.now() + LATE_ROUTER_MS;
    let waited: number | null = null;
    for (let pid = proc ? null : (next.unanswered?.() ?? null); pid !== null; ) {
      if (waited !== pid) {
        waited = pid;
        deps.log.info(
          { environment, provider: next.kind, pid },
          'new traffic router still starting; waiting to adopt it',
        );
      }
      if (Date.now() > deadline) {
        deps.log.warn(
          { environment, provider: next.kind, pid },
          'new traffic router never answered; replacing it',
        );
        signal(pid, 'SIGKILL');
        await waitForExit(pid, 2_000);
        return null;
      }
      await new Promise((r) => setTimeout(r, 100));
      proc = await next.adopt().catch(() => null);
      pid = proc ? null : (next.unanswered?.() ?? null);
    }
    if (proc && waited !== null) {
      deps.log.info(
        { environment, provider: next.kind, pid: proc.pid },
        'adopted the new traffic router that was starting',
      );
    }
    return proc;
  }

  /**
   * Finishes a change of traffic provider (`routerStatus: handover`, written with the new setting by
   * the settings service): the old router stops taking connections and finishes its in-flight
   * requests, the new one starts on the same port serving the table the database describes, and
   * the row records it (`up`, not an outage). Idempotent: after a crash anywhere in between, running
   * it again adopts what was already started and stops what is still running of the old kind. When
   * the new router cannot start, the old kind is started again and the setting goes back to it.
   */
  async function handoverFor(environmentId: string): Promise<TrafficProvider> {
    let env = await environments.getForRouter(environmentId);
    const to: TrafficProviderKind = isTrafficProviderKind(env.trafficProvider) ? env.trafficProvider : 'node';
    const from = TRAFFIC_PROVIDERS.find((k) => k !== to) as TrafficProviderKind;
    const port = env.routerPort ?? (await freePort());
    // The Node router that served before the last handover may still be finishing its requests
    // (a slow client) on the control port on record: the new one needs a control port of its own.
    const drainingThere =
      to === 'node' && env.routerControlPort && env.routerSecret
        ? await controlAnswer(env.routerControlPort, env.routerSecret).then((h) => h?.draining === true)
        : false;
    if (to === 'node' && (!env.routerControlPort || !env.routerSecret || !env.routerPort || drainingThere)) {
      // Written before the router starts: after a crash, the next attempt finds it by these.
      await environments.updateRouter(env.id, {
        routerPort: port,
        routerControlPort: env.routerControlPort && !drainingThere ? env.routerControlPort : await freePort(),
        routerSecret: env.routerSecret ?? randomBytes(24).toString('hex'),
      });
      env = await environments.getForRouter(environmentId);
    }
    const healthPath = env.application.healthPath;
    // A Node router taking over binds the port the moment the old router lets go of it (it keeps
    // trying); HAProxy cannot wait for a port, so it starts once the old one has let go.
    const takeover = to === 'node';
    const next = providerFor(env, { kind: to, port, healthPath, takeover }) as TrafficProvider;
    const initial = await desiredNow(env.id);
    const goBack = async (err: unknown, restart: boolean): Promise<never> => {
      deps.log.warn({ err, environment: env.name, to }, 'the new traffic provider did not start; going back');
      const back = providerFor(env, { kind: from, port, healthPath }) as TrafficProvider;
      const again = (await back.adopt().catch(() => null)) ?? (restart ? await back.start(initial) : null);
      await transact(async (t) => {
        await environments.updateRouter(
          env.id,
          {
            trafficProvider: from,
            routerStatus: 'up',
            address: back.address,
            ...(again ? { routerPid: again.pid } : {}),
          },
          undefined,
          t,
        );
        await appendEnvironmentUpdated(t, env);
      }, HANDOVER_TX);
      throw new Error(
        `the ${to} traffic provider did not start (${(err as Error).message}); ${from} serves again`,
      );
    };
    let proc = await adoptLate(next, env.name);
    if (!proc && takeover) proc = await next.start(initial).catch((err) => goBack(err, false));
    // From the old router closing its listener to the new one serving on the port.
    const t0 = Date.now();
    // A router taking over binds the port itself as soon as it is free: no probe in its way.
    const old = await stopOtherKinds(env, to, !takeover);
    if (!proc) proc = await next.start(initial).catch((err) => goBack(err, true));
    if (takeover) {
      for (let i = 0; i < 2_000 && (await next.health()).listening === false; i++) {
        await new Promise((r) => setTimeout(r, 2));
      }
    }
    const gapMs = Date.now() - t0;
    const stoppedPids = old.pids;
    // The old router finishes its in-flight requests on its own (it is detached); not waited for.
    void old.exited.then(
      () =>
        deps.log.info({ environment: env.name, pids: stoppedPids }, 'old traffic router finished and exited'),
      () => {},
    );
    const served = proc;
    // The table again, from the database as it is now (it may have moved while the router started).
    await next.setConfig(await desiredNow(env.id));
    await transact(async (t) => {
      await environments.updateRouter(
        env.id,
        { routerPid: served.pid, routerPort: port, routerStatus: 'up', address: next.address },
        undefined,
        t,
      );
      await appendEnvironmentUpdated(t, env);
    }, HANDOVER_TX);
    windows.delete(env.id);
    deps.log.info(
      {
        environment: env.name,
        from,
        to,
        pid: served.pid,
        stopped: stoppedPids,
        address: next.address,
        gapMs,
      },
      'traffic provider handed over',
    );
    return next;
  }

  async function startFor(environmentId: string, tx?: Tx): Promise<TrafficProvider> {
    const env = await environments.getForRouter(environmentId, tx);
    if (env.routerStatus === 'handover') {
      // Never inside a caller's transaction: the handover writes the row itself.
      if (tx) throw new Error('the traffic provider is being changed; not now');
      return handoverFor(environmentId);
    }
    if (env.runtimeTarget === 'kubernetes' && deps.kubernetes) return startInCluster(env, tx);
    const kind: TrafficProviderKind = isTrafficProviderKind(env.trafficProvider)
      ? env.trafficProvider
      : 'node';
    const current = providerFor(env, { timeoutMs: 3_000, healthPath: env.application.healthPath });
    if (current) {
      const adopted = await current.adopt();
      if (adopted) {
        await recordAdopted(env, adopted.pid, tx);
        return current;
      }
      // Alive but not answering in time (a busy machine): starting another one would only find its
      // port taken and move the address. Try again later.
      if (current.isRunning()) {
        throw new Error(
          `${kind} router ${current.pid ?? env.routerPid} is running but did not answer; not starting another`,
        );
      }
    }
    // Left over from an earlier kind (should not happen outside a handover): it holds the port.
    await stopOtherKinds(env, kind);
    const secret = env.routerSecret ?? randomBytes(24).toString('hex');
    const attempt = async (port: number, controlPort: number | null) => {
      const p = providerFor(env, {
        port,
        ...(controlPort ? { controlPort } : {}),
        secret,
        healthPath: env.application.healthPath,
      }) as TrafficProvider;
      const proc = await p.start();
      return { provider: p, pid: proc.pid, port, controlPort, address: proc.address };
    };
    const controlPortFor = async (existing: number | null) =>
      kind === 'node' ? (existing ?? (await freePort())) : existing;
    let started: Awaited<ReturnType<typeof attempt>>;
    try {
      // Same port as before when we can: the address is what people and scripts have bookmarked.
      started = await attempt(
        env.routerPort ?? (await freePort()),
        await controlPortFor(env.routerControlPort),
      );
    } catch (err) {
      if (!env.routerPort) throw err;
      if (await stillOursThere(env, kind)) throw err;
      deps.log.warn({ err, environmentId }, 'router port taken; starting the router on a new port');
      started = await attempt(await freePort(), kind === 'node' ? await freePort() : env.routerControlPort);
    }
    // A router that ran before and had to be started again: an outage users saw.
    const restart = env.routerPort !== null;
    const fields: RouterUpdate = {
      routerPid: started.pid,
      routerPort: started.port,
      ...(started.controlPort ? { routerControlPort: started.controlPort, routerSecret: secret } : {}),
      address: started.address,
    };
    const recorded = await recordRouter(
      env,
      restart ? outageSteps(env, fields) : [{ data: { ...fields, routerStatus: 'up' }, announce: false }],
      tx,
    );
    if (!recorded && started.port !== env.routerPort) {
      // The address moved and nobody knows: do not leave a router nobody can find.
      await started.provider.stop(2_000);
      throw new Error('router started on a new port but the environment could not be updated');
    }
    deps.log.info(
      { environmentId, provider: kind, address: started.address, pid: started.pid, restart },
      restart ? 'traffic router started again' : 'traffic router started',
    );
    return started.provider;
  }

  /**
   * A Kubernetes environment: the stable Service is its "router" (`routerPid` 0: no process). The
   * first time, a Node router or HAProxy left from before the environment moved to the cluster is
   * stopped (its address is not the environment's any more), and the Services are created with
   * the table the database describes.
   */
  async function startInCluster(
    env: Awaited<ReturnType<typeof environments.getForRouter>>,
    tx?: Tx,
  ): Promise<TrafficProvider> {
    const provider = providerFor(env) as TrafficProvider;
    if (env.routerPid !== 0 && env.routerPort !== null) {
      await stopOtherKinds(env, 'haproxy', false);
      await stopOtherKinds(env, 'node', false);
    }
    const proc = (await provider.adopt()) ?? (await provider.start(await desiredNow(env.id, tx)));
    if (env.routerPid !== 0 || env.routerStatus !== 'up' || env.address !== proc.address) {
      await recordRouter(
        env,
        [{ data: { routerPid: 0, routerStatus: 'up', address: proc.address }, announce: true }],
        tx,
      );
    }
    return provider;
  }

  /**
   * The environment's router, adopted or started (one start at a time per environment). Pass the
   * transaction when the caller holds the environment's row lock.
   */
  function ensureRouter(environmentId: string, tx?: Tx): Promise<TrafficProvider> {
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
          targets: members.map(instanceTarget),
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
    const provider = await ensureRouter(environmentId, tx);
    const live = await instances.listLive(environmentId, undefined, tx);
    const w = weights ?? (await currentWeights(environmentId, tx));
    const config = buildConfig(live, w);
    // A Kubernetes environment's provider resolves once the cluster serves the table.
    await provider.setConfig(config);
    return { provider, config };
  }

  /** The provider's totals now, also kept as a reading of the environment's window (when it needs one). */
  async function readTotals(env: ProviderEnv, provider: TrafficProvider): Promise<TrafficTotals> {
    const totals = await provider.totals();
    if (!provider.capabilities.windowStats) {
      let w = windows.get(env.id);
      if (!w) {
        w = new TotalsWindow();
        windows.set(env.id, w);
      }
      w.add(Date.now(), totals);
    }
    return totals;
  }

  /** Router totals now, or null when the environment has no router (yet). */
  async function sampleTraffic(environmentId: string) {
    const env = await environments.findById(environmentId);
    const provider = env ? providerFor(env) : null;
    if (!env || !provider) return null;
    try {
      const t = await readTotals(env, provider);
      return { requests: t.requests, errors: t.errors };
    } catch {
      return null;
    }
  }

  /**
   * Per-pool figures over the last `windowMs`. The Node router measures them itself (latency
   * included); for a provider with only counters (HAProxy) they are the difference between totals
   * read now and a reading from the window's start (taken by earlier calls, e.g. at the traffic
   * change that began a canary step): counts and error rate only, `windowMs` what is covered. With
   * no earlier reading in this process it reads twice, `settleMs` apart.
   */
  async function trafficWindow(
    env: ProviderEnv,
    windowMs: number,
    opts: { provider?: TrafficProvider; settleMs?: number } = {},
  ): Promise<TrafficWindow | null> {
    const provider = opts.provider ?? providerFor(env);
    if (!provider) return null;
    if (provider.capabilities.windowStats && provider.windowStats) {
      return { pools: await provider.windowStats(windowMs), latencyUnavailable: null };
    }
    await readTotals(env, provider);
    let w = windows.get(env.id)?.window(windowMs) ?? null;
    if (!w) {
      await new Promise((r) => setTimeout(r, Math.min(windowMs, opts.settleMs ?? 1_000)));
      await readTotals(env, provider);
      w = windows.get(env.id)?.window(windowMs) ?? null;
    }
    if (!w) return null;
    const versions = Object.fromEntries((await provider.getConfig()).pools.map((p) => [p.name, p.version]));
    return {
      pools: toPoolWindowStats(w, versions),
      latencyUnavailable: `the ${provider.kind} traffic provider counts requests and errors only; it measures no latency percentiles`,
    };
  }

  /** Records a reading of the totals now (the start of a window to be measured later); no-op otherwise. */
  async function markWindow(environmentId: string, provider?: TrafficProvider): Promise<void> {
    const env = await environments.findById(environmentId);
    const p = provider ?? (env ? providerFor(env) : null);
    if (!env || !p || p.capabilities.windowStats) return;
    await readTotals(env, p).catch(() => {});
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
        host: r.host,
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
    await Promise.all(
      envs.map(async (e) => {
        for (const kind of TRAFFIC_PROVIDERS) {
          const p = providerFor(e, {
            kind,
            port: e.routerPort ?? 1,
            controlPort: e.routerControlPort ?? 1,
            secret: e.routerSecret ?? 'x',
          });
          if (p && (p.isRunning() || (await p.adopt().catch(() => null)))) await p.stop(5_000);
        }
      }),
    );
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
    trafficWindow,
    markWindow,
    providerFor,
    handoverFor,
    adoptAll,
    stopEverything,
  };
}
export type EnvironmentRuntime = ReturnType<typeof createEnvironmentRuntime>;
