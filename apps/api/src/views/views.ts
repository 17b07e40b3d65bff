// Database rows → the API contract's shapes (packages/api-contract).
import type {
  Deployment,
  DeploymentAction,
  DeploymentProgress,
  Environment,
  OomInfo,
  PoolProgress,
  Release,
  StrategyName,
  TestResults,
  TrafficEntry,
  WaitingFor,
} from '@qubot/api-contract';
import { allowedActions, type DeploymentState } from '@qubot/core';
import type { DeploymentViewRow, EnvironmentViewRow, ReleaseViewRow } from '@qubot/db';
import { analysisView } from './analysis-view.ts';
import { runtimeTargetView } from './runtime-target-view.ts';

const STRATEGY_WIRE: Record<string, StrategyName> = {
  blue_green: 'blue-green',
  rolling: 'rolling',
  canary: 'canary',
};
export const strategyToWire = (s: string): StrategyName => STRATEGY_WIRE[s] ?? 'rolling';
export const strategyFromWire = (s: StrategyName) =>
  (s === 'blue-green' ? 'blue_green' : s) as 'blue_green' | 'rolling' | 'canary';

const num = (v: unknown, fallback: number): number => (typeof v === 'number' ? v : fallback);
const rec = (v: unknown): Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};

function poolProgress(v: unknown): PoolProgress {
  const p = rec(v);
  return {
    version: typeof p.version === 'string' ? p.version : null,
    instances: num(p.instances, 0),
    ready: num(p.ready, 0),
  };
}

/** The stored progress (packages/core `Progress`, jsonb) in the contract's shape, gaps filled. */
export function progressView(stored: unknown): DeploymentProgress {
  const p = rec(stored);
  const weights = rec(p.weights);
  const pools = rec(p.pools);
  return {
    instancesReady: num(p.instancesReady, 0),
    instancesDesired: num(p.instancesDesired, 0),
    weights: { blue: num(weights.blue, 0), green: num(weights.green, 0) },
    activeColor: p.activeColor === 'blue' || p.activeColor === 'green' ? p.activeColor : null,
    pools: { blue: poolProgress(pools.blue), green: poolProgress(pools.green) },
    currentStep: typeof p.currentStep === 'number' ? p.currentStep : null,
    totalSteps: num(p.totalSteps, 0),
    holdUntil: typeof p.holdUntil === 'number' ? new Date(p.holdUntil).toISOString() : null,
  };
}

const WAITING: readonly string[] = ['switch', 'advance', 'approval'] satisfies WaitingFor[];
const waitingFor = (v: string | null): WaitingFor =>
  v !== null && WAITING.includes(v) ? (v as WaitingFor) : null;

/** What a person may do now, as packages/core decides from the stored state machine. */
export function actionsView(state: unknown): DeploymentAction[] {
  const s = rec(state);
  // A row whose state the engine has not written yet (or no longer can read) accepts nothing.
  if (s.schemaVersion !== 1 || !Array.isArray(s.program)) return [];
  return allowedActions(s as unknown as DeploymentState);
}

function trafficView(stored: unknown): TrafficEntry[] {
  if (!Array.isArray(stored)) return [];
  return stored.flatMap((v): TrafficEntry[] => {
    const t = rec(v);
    if (t.pool !== 'blue' && t.pool !== 'green') return [];
    const served = rec(t.served);
    return [
      {
        pool: t.pool,
        version: typeof t.version === 'string' ? t.version : null,
        weight: num(t.weight, 0),
        ...(typeof served.pods === 'number' && typeof served.ofPods === 'number'
          ? { served: { pods: served.pods, ofPods: served.ofPods, percent: num(served.percent, 0) } }
          : {}),
      },
    ];
  });
}

function testResultsView(stored: unknown): TestResults | null {
  const t = rec(stored);
  if (typeof t.passed !== 'number' || typeof t.failed !== 'number') return null;
  return {
    passed: t.passed,
    failed: t.failed,
    ...(typeof t.skipped === 'number' ? { skipped: t.skipped } : {}),
    ...(typeof t.url === 'string' ? { url: t.url } : {}),
  };
}

/** The stored figures of an instance's last OOM kill (written by the health monitor). */
function oomView(kills: number, last: unknown): OomInfo | null {
  if (kills === 0 || !last || typeof last !== 'object') return null;
  const o = last as { at?: unknown; limitBytes?: unknown; peakBytes?: unknown };
  const n = (v: unknown) => (typeof v === 'number' ? v : null);
  return { kills, at: String(o.at ?? ''), limitBytes: n(o.limitBytes), peakBytes: n(o.peakBytes) };
}

const RUNNING_FOR_DRIFT: readonly string[] = ['starting', 'running', 'unhealthy'];

/**
 * Whether an instance runs another configuration than the environment's current one: by hash
 * when both are known, else by version. An instance started before configuration was passed on
 * (version null) got none: it differs from any configuration that was ever set.
 */
export function isDrifted(
  i: { configVersion: number | null; configHash: string | null },
  current: { version: number; configHash: string | null } | undefined,
): boolean {
  const version = current?.version ?? 0;
  if (i.configVersion === null) return version > 0;
  if (i.configHash && current?.configHash) return i.configHash !== current.configHash;
  return i.configVersion !== version;
}

export function environmentView(row: EnvironmentViewRow): Environment {
  const active = row.deployments[0];
  const currentConfig = row.configVersions[0];
  const drifted = (i: EnvironmentViewRow['instances'][number]) =>
    RUNNING_FOR_DRIFT.includes(i.status) && isDrifted(i, currentConfig);
  // The environment drifts when what serves traffic does: a colour kept warm for the rollback
  // window serves nothing (its instances still say they differ).
  const traffic = trafficView(row.traffic);
  const serving = (i: EnvironmentViewRow['instances'][number]) =>
    traffic.length === 0 || traffic.some((t) => t.pool === i.pool && t.weight > 0);
  const driftedServing = row.instances.filter((i) => drifted(i) && serving(i)).length;
  return {
    name: row.name,
    position: row.position,
    protected: row.protected,
    requiresApproval: row.requiresApproval,
    address: row.address,
    live: row.liveRelease ? { version: row.liveRelease.version } : null,
    previous: row.previousRelease ? { version: row.previousRelease.version } : null,
    activeColor: row.activeColor,
    traffic,
    instances: row.instances.map((i) => ({
      id: i.id,
      pool: i.pool,
      version: i.release.version,
      status: i.status,
      healthy: i.healthy,
      host: i.host,
      hostName: i.enrolledHost?.name ?? null,
      port: i.port,
      restarts: i.restarts,
      limits: { memoryMb: i.memoryMb, cpus: i.cpuPercent === null ? null : i.cpuPercent / 100 },
      oom: oomView(i.oomKills, i.lastOom),
      startedAt: i.startedAt.toISOString(),
      config: { version: i.configVersion, hash: i.configHash, drifted: drifted(i) },
    })),
    activeDeployment: active
      ? {
          id: active.id,
          status: active.status,
          strategy: strategyToWire(active.strategy),
          version: active.release.version,
          waitingFor: waitingFor(active.waitingFor),
          progress: progressView(active.progress),
          actions: actionsView(active.state),
        }
      : null,
    replicas: row.replicas,
    resources: {
      memoryMb: row.memoryMb,
      cpus: row.cpuPercent === null ? null : row.cpuPercent / 100,
    },
    analysisOnInconclusive:
      row.analysisOnInconclusive === 'fail' || row.analysisOnInconclusive === 'wait'
        ? row.analysisOnInconclusive
        : null,
    syntheticLoad: row.syntheticLoad ?? null,
    trafficProvider:
      row.runtimeTarget === 'kubernetes'
        ? 'kubernetes'
        : row.trafficProvider === 'haproxy'
          ? 'haproxy'
          : 'node',
    runtime: runtimeTargetView(row),
    placement: row.placement === 'hosts' ? 'hosts' : 'local',
    router: {
      status:
        row.routerStatus === 'up' || row.routerStatus === 'down' || row.routerStatus === 'handover'
          ? row.routerStatus
          : 'none',
      restarts: row.routerRestarts,
      lastOutageAt: row.routerOutageAt?.toISOString() ?? null,
    },
    config: {
      version: currentConfig?.version ?? 0,
      hash: currentConfig?.configHash ?? null,
      driftedInstances: driftedServing,
      drift: driftedServing > 0,
    },
    updatedAt: row.updatedAt.toISOString(),
  };
}

export function releaseView(row: ReleaseViewRow): Release {
  const live = new Set(row.liveIn.map((e) => e.name));
  const last = new Map<string, ReleaseViewRow['deployments'][number]['status']>();
  for (const d of row.deployments) if (!last.has(d.environment.name)) last.set(d.environment.name, d.status);
  const envs = new Set([...live, ...last.keys()]);
  return {
    id: row.id,
    version: row.version,
    artifact: row.artifact,
    commit: row.commit,
    changelog: row.changelog,
    buildUrl: row.buildUrl,
    testResults: testResultsView(row.testResults),
    createdBy: row.createdBy,
    createdAt: row.createdAt.toISOString(),
    deployedTo: [...envs].map((environment) => ({
      environment,
      live: live.has(environment),
      lastStatus: last.get(environment) ?? null,
    })),
  };
}

/** A row's timestamp in ISO form: a history page's come as text already (deployment-repo.ts). */
const isoStamp = (v: Date | string | null): string | null =>
  v === null ? null : typeof v === 'string' ? v : v.toISOString();

export function deploymentView(row: DeploymentViewRow): Deployment {
  return {
    id: row.id,
    application: row.application.name,
    environment: row.environment.name,
    release: { version: row.release.version, artifact: row.release.artifact },
    fromVersion: row.fromRelease?.version ?? null,
    configVersion: row.configVersion?.version ?? null,
    kind: row.kind,
    strategy: strategyToWire(row.strategy),
    status: row.status,
    waitingFor: waitingFor(row.waitingFor),
    actions: actionsView(row.state),
    options: rec(row.options),
    steps: row.steps.map((s) => ({
      position: s.position,
      name: s.name,
      status: s.status,
      message: s.message,
      startedAt: isoStamp(s.startedAt),
      finishedAt: isoStamp(s.finishedAt),
    })),
    progress: progressView(row.progress),
    analysis: analysisView(row.analysis),
    traffic: { requests: Number(row.requestsServed), failed: Number(row.requestsFailed) },
    reason: row.reason,
    actor: row.actor,
    error: row.error,
    createdAt: row.createdAt.toISOString(),
    startedAt: isoStamp(row.startedAt),
    finishedAt: isoStamp(row.finishedAt),
  };
}
