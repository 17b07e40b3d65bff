// The dashboard's observation side (docs/dashboard.md): an environment's recent router figures,
// an instance's log, and a deployment's ETA and log. Read-only; every call checks permission
// first (instance logs: `logs.read`, deployer and up — they may hold sensitive output).
import {
  ACTIVE_STATUSES,
  type DeploymentEtaResponse,
  type DeploymentLogEntry,
  type EnvironmentMetrics,
  type InstanceLog,
  type List,
  type TrafficProviderStatus,
} from '@qubot/api-contract';
import type { DeploymentRepo, InstanceRepo } from '@qubot/db';
import type { RuntimeDriver } from '@qubot/runtime';
import { followLog, type LogFollower } from '@qubot/runtime';
import { AppError } from '../lib/app-error.ts';
import { canReadApplication, requirePermission } from '../lib/permissions.ts';
import type { RequestContext } from '../lib/request-context.ts';
import type { EnvironmentRuntime } from '../orchestrator/runtime.ts';
import type { CatalogService } from '../services/catalog-service.ts';
import { deploymentLog } from './deployment-log.ts';
import { computeEta } from './eta.ts';
import { type MetricsHistory, toSample } from './samples.ts';

/** Earlier deployments an ETA looks at (the newest ones). */
const ETA_HISTORY = 50;
/** A deployment's log is its events; more than this is not a log anyone reads in a browser. */
const LOG_LIMIT = 2000;

type Ctx = Pick<RequestContext, 'actor'>;

export function createObserveService(deps: {
  deployments: Pick<DeploymentRepo, 'findSummary' | 'recentRuns' | 'events'>;
  instances: Pick<InstanceRepo, 'findInEnvironment'>;
  catalog: Pick<CatalogService, 'requireEnvironment'>;
  history: Pick<MetricsHistory, 'since'>;
  /** Looked up at call time: the orchestrator registers after the services. */
  runtime: () => Pick<EnvironmentRuntime, 'trafficWindow' | 'providerFor'>;
  driver: () => Pick<RuntimeDriver, 'logs' | 'localLogFile' | 'followLogs'>;
  intervalMs: number;
  now?: () => number;
}) {
  const now = deps.now ?? Date.now;

  async function requireInstance(ctx: Ctx, appName: string, envName: string, id: string) {
    const { app, env } = await deps.catalog.requireEnvironment(appName, envName);
    requirePermission(ctx, 'logs.read', {
      application: app.name,
      environment: { name: env.name, protected: env.protected },
    });
    const instance = await deps.instances.findInEnvironment(id, env.id);
    if (!instance) throw AppError.notFound(`instance ${id} in ${appName}/${envName}`, { field: 'params.id' });
    return instance;
  }

  async function readableDeployment(ctx: Ctx, id: string) {
    const d = await deps.deployments.findSummary(id);
    // Not readable looks the same as missing (as GET /deployments/:id does).
    if (!d || !canReadApplication(ctx.actor, d.application.name))
      throw AppError.notFound(`deployment ${id}`, { field: 'params.id' });
    return d;
  }

  return {
    /** Samples of the last `windowSeconds` (oldest first), for the chart's first render. */
    async metrics(
      ctx: Ctx,
      appName: string,
      envName: string,
      windowSeconds = 300,
    ): Promise<EnvironmentMetrics> {
      requirePermission(ctx, 'read', { application: appName });
      const { env } = await deps.catalog.requireEnvironment(appName, envName);
      let samples = deps.history.since(env.id, now() - windowSeconds * 1000);
      if (samples.length === 0) {
        // Nothing sampled here yet (a fresh process, or no sampler running): one figure for the
        // whole window, read from the router itself (loopback, secret from the database).
        // A provider with counters only (HAProxy) gives counts over what it can cover, no latency.
        const windowMs = Math.min(windowSeconds, 60) * 1000;
        const stats = await deps
          .runtime()
          .trafficWindow(env, windowMs)
          .catch(() => null);
        if (stats)
          samples = [toSample(undefined, stats.pools, now(), stats.pools[0]?.windowMs ?? windowMs).sample];
      }
      return { environment: `${appName}/${envName}`, intervalMs: deps.intervalMs, samples };
    },

    /** The environment's traffic provider: its kind, capabilities and live health (HAProxy: per target). */
    async trafficProvider(ctx: Ctx, appName: string, envName: string): Promise<TrafficProviderStatus> {
      requirePermission(ctx, 'read', { application: appName });
      const { env } = await deps.catalog.requireEnvironment(appName, envName);
      const provider = deps.runtime().providerFor(env);
      const kind =
        provider?.kind === 'kubernetes'
          ? 'kubernetes'
          : env.trafficProvider === 'haproxy'
            ? 'haproxy'
            : 'node';
      const base = {
        environment: `${appName}/${envName}`,
        kind,
        address: env.address,
        capabilities:
          provider?.capabilities ??
          (kind === 'haproxy'
            ? { survivesControlPlaneRestart: true, checksTargets: true, windowStats: false }
            : { survivesControlPlaneRestart: true, checksTargets: false, windowStats: true }),
      } as const;
      // The row names the new provider while a handover runs; its router may not answer yet.
      if (!provider || env.routerPid === null) return { ...base, health: null, error: null };
      try {
        const h = await provider.health();
        return {
          ...base,
          health: { ok: h.ok, pid: h.pid, revision: h.revision, targets: h.targets },
          error: null,
        };
      } catch (err) {
        return {
          ...base,
          health: null,
          error: `the ${kind} router did not answer: ${(err as Error).message}`,
        };
      }
    },

    async instanceLog(
      ctx: Ctx,
      appName: string,
      envName: string,
      id: string,
      lines = 200,
    ): Promise<InstanceLog> {
      const instance = await requireInstance(ctx, appName, envName, id);
      return {
        instanceId: instance.id,
        pool: instance.pool,
        version: instance.release.version,
        lines: await deps.driver().logs({ id: instance.id }, lines),
      };
    },

    /** New lines of the instance's log as they are written, until `stop()`. Permission as instanceLog. */
    async followInstanceLog(
      ctx: Ctx,
      appName: string,
      envName: string,
      id: string,
      onLines: (lines: string[]) => void,
    ): Promise<LogFollower> {
      const instance = await requireInstance(ctx, appName, envName, id);
      const driver = deps.driver();
      // An instance on a host has no file here: its agent follows it (through the agent hub).
      const file = instance.hostId ? null : driver.localLogFile({ id: instance.id });
      if (file) return followLog(file, onLines);
      if (!driver.followLogs)
        throw AppError.conflict('this runtime driver keeps no log file to follow; read the log instead');
      // A pod's log, streamed by the cluster (`follow=true`), or a host's, streamed by its agent.
      const stop = new AbortController();
      const ready = driver.followLogs({ id: instance.id }, (line) => onLines([line]), stop.signal);
      return { ready, stop: () => stop.abort() };
    },

    /** p90 of earlier succeeded deployments with the same strategy in the same environment. */
    async eta(ctx: Ctx, id: string): Promise<DeploymentEtaResponse> {
      const d = await readableDeployment(ctx, id);
      const earlier = await deps.deployments.recentRuns({
        environmentId: d.environmentId,
        strategy: d.strategy,
        exceptId: d.id,
        take: ETA_HISTORY,
      });
      const durations = earlier.map((e) => (e.finishedAt.getTime() - e.startedAt.getTime()) / 1000);
      const active = (ACTIVE_STATUSES as readonly string[]).includes(d.status);
      return {
        deploymentId: d.id,
        eta: active ? computeEta(durations, d.startedAt ?? d.createdAt) : null,
      };
    },

    /** The deployment's stored events as a chronological log. */
    async log(ctx: Ctx, id: string): Promise<List<DeploymentLogEntry>> {
      const d = await readableDeployment(ctx, id);
      const rows = await deps.deployments.events(d.id, LOG_LIMIT);
      return {
        items: deploymentLog(
          rows.map((r) => ({
            seq: Number(r.seq),
            type: r.type,
            at: r.createdAt.toISOString(),
            payload: r.payload,
          })),
        ),
        nextCursor: null,
      };
    },
  };
}
export type ObserveService = ReturnType<typeof createObserveService>;
