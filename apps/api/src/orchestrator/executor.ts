// Executes one command of a deployment against the runtime and answers with the event the
// state machine expects. Every command reconciles towards a target (instance counts, a routing
// table), so executing it again after a crash is harmless: that is what makes resume safe.
import { randomBytes } from 'node:crypto';
import {
  type Color,
  type Command,
  type DeploymentEvent,
  type DeploymentState,
  otherColor,
  type Weights,
} from '@qubot/core';
import {
  createDeploymentRepo,
  createDeploymentWriteRepo,
  createEnvironmentRepo,
  createInstanceRepo,
  createReleaseRepo,
  type Database,
  type InstanceRow,
  type LockedDeployment,
  type Tx,
} from '@qubot/db';
import { instanceTarget, instanceUrl, type RuntimeDriver } from '@qubot/runtime';
import type { EffectiveConfigService } from '../services/effective-config.ts';
import { announceDrained } from '../views/host-events.ts';
import type { HookRunner } from './hooks.ts';
import {
  type PrometheusSetting,
  poolFigures,
  promDuration,
  prometheusSettingOf,
} from './prometheus-analysis.ts';
import type { EnvironmentRuntime } from './runtime.ts';

export interface Execution {
  event: DeploymentEvent;
  /** Database facts that commit together with the result. */
  effects?: (tx: Tx, row: LockedDeployment) => Promise<void>;
}

/** Upper bound on one driver call that has no timeout of its own (start, stop, traffic). */
const COMMAND_TIMEOUT_MS = 60_000;
/** The longest window the traffic router answers for (its MAX_WINDOW_MS). */
const MAX_ANALYSIS_WINDOW_MS = 15 * 60_000;

const failed = (cmd: Command, message: string): Execution => ({
  event: { type: 'commandFailed', commandId: cmd.id, message },
});

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms / 1000}s`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

export function createExecutor(deps: {
  db: Pick<Database, 'prisma'>;
  driver: RuntimeDriver;
  runtime: EnvironmentRuntime;
  /** Health probe interval while waiting for instances. */
  healthIntervalMs?: number;
  /** Deployment hooks (docs/hooks.md); without it a hook fails. */
  hooks?: HookRunner;
  /** The configuration instances are started with (docs/configuration.md "Drift"). */
  effectiveConfig?: EffectiveConfigService | undefined;
}) {
  const { prisma } = deps.db;
  const instances = createInstanceRepo(prisma);
  const deployments = createDeploymentRepo(prisma);
  const deploymentWrites = createDeploymentWriteRepo(prisma);
  const environments = createEnvironmentRepo(prisma);
  const releases = createReleaseRepo(prisma);

  function context(deploymentId: string) {
    return deployments.getWithTarget(deploymentId);
  }

  /** Instances another active deployment is bringing up are not ours to stop. */
  async function ownedElsewhere(deploymentId: string, environmentId: string): Promise<Set<string>> {
    const others = await deploymentWrites.activeIdsExcept(environmentId, deploymentId);
    if (others.length === 0) return new Set();
    return new Set(await instances.idsOwnedBy(others));
  }

  async function refreshAlive(rows: InstanceRow[]): Promise<InstanceRow[]> {
    const alive: InstanceRow[] = [];
    for (const r of rows) {
      const st = await deps.driver.status({ id: r.id });
      if (st.supervisorAlive) {
        alive.push(r);
        continue;
      }
      // Its supervisor is gone (killed, or never spawned before a crash): a new one adopts the
      // instance or starts it again under the same row — it still counts, nothing is started twice.
      const back = await deps.driver.resupervise(r.id).catch(() => null);
      if (back) {
        await instances.update(r.id, { supervisorPid: back.record.supervisorPid });
        alive.push(r);
        continue;
      }
      // Nothing on disk: the row was written but no process ever existed. It never ran.
      await instances.update(r.id, { status: 'stopped', healthy: false, stoppedAt: new Date() });
    }
    return alive;
  }

  async function startInstances(
    deploymentId: string,
    cmd: Extract<Command, { kind: 'startInstances' }>,
  ): Promise<Execution> {
    const d = await context(deploymentId);
    const release = await releases.find(d.applicationId, cmd.version);
    if (!release) return failed(cmd, `release ${cmd.version} not found`);
    const { memoryMb, cpuPercent } = d.environment;
    const pool = await instances.listLive(d.environmentId, cmd.pool);
    const sameRelease = pool.filter((i) => i.releaseId === release.id && i.status !== 'stopping');
    // Instances of this release started with other limits (a resource change rolls them) do not
    // count; they leave this pool, which carries no traffic yet.
    const stale = sameRelease.filter((i) => i.memoryMb !== memoryMb || i.cpuPercent !== cpuPercent);
    if (stale.length > 0) await retire(d.environmentId, stale);
    const running = await refreshAlive(sameRelease.filter((i) => !stale.includes(i)));
    const missing = cmd.total - running.length;
    // The configuration the deployment pinned: every instance it starts gets it.
    const config =
      missing > 0 && deps.effectiveConfig !== undefined
        ? await deps.effectiveConfig.pinned(d.environmentId, d.configVersionId)
        : null;
    for (let k = 0; k < missing; k++) {
      const id = `${d.environment.name}-${cmd.pool}-${randomBytes(4).toString('hex')}`;
      // The driver says where the instance will answer; the row records it before the process
      // exists: after a crash right here, the next run finds the row, sees no supervisor, marks it
      // crashed and starts a replacement (never a duplicate).
      const address = await deps.driver.allocateAddress({
        environmentId: d.environmentId,
        releaseId: release.id,
        placement: d.environment.placement === 'hosts' ? 'hosts' : 'local',
      });
      await instances.create({
        id,
        environmentId: d.environmentId,
        deploymentId,
        releaseId: release.id,
        pool: cmd.pool,
        host: address.host,
        port: address.port,
        hostId: address.hostId ?? null,
        memoryMb,
        cpuPercent,
      });
      const rec = await withTimeout(
        deps.driver.start({
          instanceId: id,
          environment: `${d.application.name}/${d.environment.name}`,
          version: cmd.version,
          artifact: release.artifact,
          pool: cmd.pool,
          address,
          launcher: {
            command: d.application.launcher,
            ...(d.application.launcherCwd ? { cwd: d.application.launcherCwd } : {}),
          },
          healthPath: d.application.healthPath,
          resources: {
            ...(memoryMb ? { memoryMb } : {}),
            ...(cpuPercent ? { cpus: cpuPercent / 100 } : {}),
          },
          ...(config ? { config: { version: config.version, values: config.values } } : {}),
        }),
        COMMAND_TIMEOUT_MS,
        'instance start',
      );
      await instances.update(id, {
        // A driver that learns the address only once the instance runs (a pod's IP) says it now.
        ...(rec.host !== address.host || rec.port !== address.port ? { host: rec.host, port: rec.port } : {}),
        supervisorPid: rec.supervisorPid,
        logPath: rec.logPath,
        configVersion: rec.config?.version ?? null,
        configHash: rec.config?.hash ?? null,
      });
    }
    return {
      event: { type: 'instancesStarted', commandId: cmd.id },
      effects: async () => {},
    };
  }

  async function stopInstances(
    deploymentId: string,
    cmd: Extract<Command, { kind: 'stopInstances' }>,
  ): Promise<Execution> {
    const d = await context(deploymentId);
    const foreign = await ownedElsewhere(deploymentId, d.environmentId);
    const pool = (await instances.listLive(d.environmentId, cmd.pool)).filter((i) => !foreign.has(i.id));
    const keep = cmd.count === 'all' ? 0 : cmd.total;
    // Instances already being stopped (a run interrupted by a crash) go first, then unhealthy ones
    // (a scale reverted because its new instances failed), then those on a draining host (a drain,
    // docs/hosts.md), then the oldest.
    const draining = await drainingHosts(pool);
    const onDraining = (i: InstanceRow) => i.hostId !== null && draining.has(i.hostId);
    const settled = pool.filter((i) => i.status !== 'stopping' && i.healthy);
    const ordered = [
      ...pool.filter((i) => i.status === 'stopping'),
      ...pool.filter((i) => i.status !== 'stopping' && !i.healthy),
      ...settled.filter(onDraining),
      ...settled.filter((i) => !onDraining(i)),
    ];
    const victims = ordered.slice(0, Math.max(0, ordered.length - keep));
    await retire(d.environmentId, victims);
    return { event: { type: 'instancesStopped', commandId: cmd.id } };
  }

  /** The draining hosts among those the instances run on (a handful of rows by primary key). */
  async function drainingHosts(rows: InstanceRow[]): Promise<Set<string>> {
    const ids = [...new Set(rows.flatMap((r) => (r.hostId ? [r.hostId] : [])))];
    if (ids.length === 0) return new Set();
    const hosts = await prisma.host.findMany({
      where: { id: { in: ids }, scheduling: 'draining' },
      select: { id: true },
    });
    return new Set(hosts.map((h) => h.id));
  }

  /** Out of the routing table first, then their in-flight requests finish, then they stop. */
  async function retire(environmentId: string, victims: InstanceRow[]) {
    if (victims.length === 0) return;
    await instances.markMany(
      victims.map((v) => v.id),
      { status: 'stopping' },
    );
    const { provider } = await deps.runtime.applyRouting(environmentId);
    await provider.waitDrained(victims.map(instanceTarget), 15_000);
    await Promise.all(victims.map((v) => deps.driver.stop({ id: v.id }, { timeoutMs: 10_000 })));
    const ids = victims.map((v) => v.id);
    const stopped = { status: 'stopped', healthy: false, stoppedAt: new Date() } as const;
    // A draining host whose last instance this stops turns `drained`: announced in the same commit.
    // Instances on no host (local environments) have no host to announce: no transaction.
    const hostIds = victims.flatMap((v) => (v.hostId ? [v.hostId] : []));
    if (hostIds.length === 0) await instances.markMany(ids, stopped);
    else
      await prisma.$transaction((tx) =>
        announceDrained(tx, hostIds, () => instances.markMany(ids, stopped, tx)),
      );
  }

  async function waitHealthy(
    deploymentId: string,
    cmd: Extract<Command, { kind: 'waitHealthy' }>,
    signal: AbortSignal,
  ): Promise<Execution> {
    const d = await context(deploymentId);
    const release = await releases.find(d.applicationId, cmd.version);
    if (!release) return failed(cmd, `release ${cmd.version} not found`);
    const interval = deps.healthIntervalMs ?? 250;
    let healthy: string[] = [];
    for (;;) {
      signal.throwIfAborted();
      let pool = (await instances.listLive(d.environmentId, cmd.pool)).filter(
        (i) => i.releaseId === release.id && i.status !== 'stopping',
      );
      if (pool.length < cmd.count && d.environment.placement === 'hosts') {
        // Instances lost with their host while we wait (docs/hosts.md): started again on other hosts,
        // as the start command would (it counts what is live).
        await startInstances(deploymentId, {
          id: cmd.id,
          kind: 'startInstances',
          pool: cmd.pool,
          version: cmd.version,
          count: cmd.count - pool.length,
          total: cmd.count,
        });
        pool = (await instances.listLive(d.environmentId, cmd.pool)).filter(
          (i) => i.releaseId === release.id && i.status !== 'stopping',
        );
      }
      const results = await Promise.all(
        pool.map((i) =>
          deps.driver.checkHealth(
            { id: i.id, host: i.host, port: i.port, healthPath: d.application.healthPath },
            2_000,
          ),
        ),
      );
      healthy = results.filter((r) => r.healthy).map((r) => r.id);
      const unhealthy = pool.filter((i) => !healthy.includes(i.id)).map((i) => i.id);
      const now = new Date();
      await instances.markMany(healthy, { status: 'running', healthy: true });
      await instances.markUnhealthy(unhealthy);
      await instances.touchHealth(healthy, now);
      if (healthy.length >= cmd.count) break;
      if (Date.now() >= cmd.deadline) {
        return { event: { type: 'healthTimeout', commandId: cmd.id, count: healthy.length } };
      }
      await new Promise((r) => setTimeout(r, Math.min(interval, Math.max(0, cmd.deadline - Date.now()))));
    }
    // Healthy instances join their pool's routing table (at the pool's current weight).
    await deps.runtime.applyRouting(d.environmentId);
    return { event: { type: 'healthy', commandId: cmd.id, count: healthy.length } };
  }

  async function setTraffic(
    deploymentId: string,
    cmd: Extract<Command, { kind: 'setTraffic' }>,
  ): Promise<Execution> {
    const d = await context(deploymentId);
    const { config, provider } = await deps.runtime.applyRouting(d.environmentId, cmd.weights);
    // Where a canary step's window starts, for a provider that only counts (HAProxy).
    await deps.runtime.markWindow(d.environmentId, provider);
    // Kubernetes replica ratio: what whole pods make of the weight, kept beside it.
    const shares = provider.servedShares?.() ?? null;
    const traffic = (['blue', 'green'] as Color[]).map((pool) => ({
      pool,
      version: config.pools.find((p) => p.name === pool)?.version ?? null,
      weight: cmd.weights[pool],
      ...(shares?.[pool] ? { served: { ...shares[pool] } } : {}),
    }));
    return {
      event: { type: 'trafficSet', commandId: cmd.id },
      effects: async (tx) => {
        await environments.update(
          d.environmentId,
          { traffic, ...(cmd.activeColor ? { activeColor: cmd.activeColor } : {}) },
          tx,
        );
      },
    };
  }

  async function exposePreview(deploymentId: string, cmd: Extract<Command, { kind: 'exposePreview' }>) {
    const d = await context(deploymentId);
    const first = (await instances.listLive(d.environmentId, cmd.pool))[0];
    // No second router: the preview is the idle colour's first instance, at its address.
    return {
      event: {
        type: 'previewReady',
        commandId: cmd.id,
        ...(first ? { url: instanceUrl(first) } : {}),
      },
    } satisfies Execution;
  }

  async function smokeCheck(deploymentId: string, cmd: Extract<Command, { kind: 'smokeCheck' }>) {
    const d = await context(deploymentId);
    const pool = await instances.listLive(d.environmentId, cmd.pool);
    // What to ask and which header names the version are the application's settings.
    const { smokePath, versionHeader } = d.application;
    for (const i of pool) {
      try {
        const res = await fetch(`${instanceUrl(i)}${smokePath}`, { signal: AbortSignal.timeout(5_000) });
        const version = versionHeader ? res.headers.get(versionHeader) : null;
        await res.arrayBuffer();
        if (!res.ok)
          return {
            event: {
              type: 'smokeResult',
              commandId: cmd.id,
              passed: false,
              message: `${i.id}: HTTP ${res.status}`,
            },
          } satisfies Execution;
        if (version && version !== cmd.version) {
          return {
            event: {
              type: 'smokeResult',
              commandId: cmd.id,
              passed: false,
              message: `${i.id} serves ${version}`,
            },
          } satisfies Execution;
        }
      } catch (err) {
        return {
          event: {
            type: 'smokeResult',
            commandId: cmd.id,
            passed: false,
            message: `${i.id}: ${(err as Error).message}`,
          },
        } satisfies Execution;
      }
    }
    return {
      event: {
        type: 'smokeResult',
        commandId: cmd.id,
        passed: true,
        message: `${pool.length} instances answered`,
      },
    } satisfies Execution;
  }

  /**
   * The figures from the environment's Prometheus (docs/monitoring.md "Prometheus as the analysis
   * source"): the new pool's and the stable pool's, over the same window. A query that fails or
   * gives no error rate for requests it counted makes the measurement `unavailable` — inconclusive,
   * never a pass.
   */
  async function prometheusMetrics(
    d: Awaited<ReturnType<typeof context>>,
    setting: PrometheusSetting,
    cmd: Extract<Command, { kind: 'collectMetrics' }>,
    windowMs: number,
    healthy: number,
  ): Promise<Execution> {
    const ids = [d.releaseId, d.fromReleaseId].filter((id): id is string => id !== null);
    const rows = await prisma.release.findMany({
      where: { id: { in: ids } },
      select: { id: true, version: true },
    });
    const versionOf = (id: string | null) => rows.find((r) => r.id === id)?.version ?? '';
    const baselinePool = cmd.baselinePool === undefined ? otherColor(cmd.pool) : cmd.baselinePool;
    const vars = (pool: Color, version: string) => ({
      app: d.application.name,
      env: d.environment.name,
      pool,
      version,
      window: promDuration(windowMs),
    });
    const base = { type: 'metrics' as const, commandId: cmd.id, healthy, source: 'prometheus' as const };
    try {
      const [now, before] = await Promise.all([
        poolFigures(setting, vars(cmd.pool, versionOf(d.releaseId))),
        baselinePool ? poolFigures(setting, vars(baselinePool, versionOf(d.fromReleaseId))) : null,
      ]);
      if (now.requests > 0 && now.errorRate === null)
        throw new Error(
          `the errorRate query gave no data for ${now.requests} requests (end it with "or vector(0)" where no error is a 0)`,
        );
      return {
        event: {
          ...base,
          requests: now.requests,
          errors: Math.round((now.errorRate ?? 0) * now.requests),
          ...(now.errorRate === null ? {} : { errorRate: now.errorRate }),
          p95Ms: now.p95Ms,
          baseline:
            before && before.requests > 0
              ? {
                  requests: before.requests,
                  errors: Math.round((before.errorRate ?? 0) * before.requests),
                  ...(before.errorRate === null ? {} : { errorRate: before.errorRate }),
                  p95Ms: before.p95Ms,
                }
              : null,
        },
      };
    } catch (err) {
      return {
        event: { ...base, requests: 0, errors: 0, p95Ms: null, unavailable: (err as Error).message },
      };
    }
  }

  async function collectMetrics(deploymentId: string, cmd: Extract<Command, { kind: 'collectMetrics' }>) {
    const d = await context(deploymentId);
    // The router keeps at most 15 minutes of samples; a longer hold is judged on its latest 15.
    const windowMs = Math.min(MAX_ANALYSIS_WINDOW_MS, Math.max(1_000, Date.now() - cmd.since));
    const healthyCount = await instances.countHealthy(d.environmentId, cmd.pool);
    const prometheus = prometheusSettingOf(d.environment.analysisPrometheus);
    if (prometheus) return prometheusMetrics(d, prometheus, cmd, windowMs, healthyCount);
    const provider = await deps.runtime.ensureRouter(d.environmentId);
    // Both pools from one reading, so the canary and the stable pool cover the same window.
    const window = await deps.runtime.trafficWindow(d.environment, windowMs, { provider });
    if (!window) throw new Error(`the ${provider.kind} traffic provider gave no figures yet`);
    const { pools, latencyUnavailable } = window;
    // A pool the router has not seen yet served nothing.
    const st = pools.find((p) => p.pool === cmd.pool);
    const baselinePool = cmd.baselinePool === undefined ? otherColor(cmd.pool) : cmd.baselinePool;
    const base = baselinePool ? pools.find((p) => p.pool === baselinePool) : undefined;
    return {
      event: {
        type: 'metrics',
        commandId: cmd.id,
        requests: st?.requests ?? 0,
        errors: st?.errors ?? 0,
        ...(st ? { errorRate: st.errorRate } : {}),
        p95Ms: st?.p95 ?? null,
        ...(latencyUnavailable ? { p95Unavailable: latencyUnavailable } : {}),
        healthy: healthyCount,
        source: 'router',
        baseline: base
          ? { requests: base.requests, errors: base.errors, errorRate: base.errorRate, p95Ms: base.p95 }
          : null,
      },
    } satisfies Execution;
  }

  /** Runs one command; any failure is answered `commandFailed` (the machine retries, then rolls back). */
  async function execute(deploymentId: string, cmd: Command, signal: AbortSignal): Promise<Execution> {
    try {
      switch (cmd.kind) {
        case 'startInstances':
          return await startInstances(deploymentId, cmd);
        case 'stopInstances':
          return await withTimeout(stopInstances(deploymentId, cmd), COMMAND_TIMEOUT_MS, 'instance stop');
        case 'waitHealthy':
          return await waitHealthy(deploymentId, cmd, signal);
        case 'setTraffic':
          return await withTimeout(setTraffic(deploymentId, cmd), COMMAND_TIMEOUT_MS, 'traffic change');
        case 'exposePreview':
          return await exposePreview(deploymentId, cmd);
        case 'smokeCheck':
          return await smokeCheck(deploymentId, cmd);
        case 'collectMetrics':
          return await withTimeout(collectMetrics(deploymentId, cmd), COMMAND_TIMEOUT_MS, 'metrics');
        case 'runHook': {
          if (!deps.hooks) return failed(cmd, 'hooks are not run by this worker');
          const v = await deps.hooks.run(deploymentId, cmd, signal);
          return {
            event: { type: 'hookResult', commandId: cmd.id, passed: v.passed, message: v.message },
            ...(v.effects ? { effects: v.effects } : {}),
          };
        }
        case 'setTimer':
        case 'cancelTimer':
          // Timers live in the state; the worker delivers them.
          return failed(cmd, 'timers are not executed');
      }
    } catch (err) {
      if (signal.aborted) throw err;
      return failed(cmd, (err as Error).message);
    }
  }

  return { execute };
}
export type Executor = ReturnType<typeof createExecutor>;
export type { DeploymentState, Weights };
