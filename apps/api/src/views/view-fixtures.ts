// Fixtures for the web's and the CLI's tests: the views this server really sends. A deployment is
// a real packages/core state machine driven by its test simulator; views.ts turns the row the
// engine would store into the API's shape, and the contract's schema checks it. A test built on
// these fails when the server's shape changes, not only when a hand-written copy does.
import { Deployment, DoraReport, Environment } from '@qubot/api-contract';
import { type DeploymentInput, type DeploymentState, isTerminalStatus } from '@qubot/core';
import { Sim, T0 } from '@qubot/core/testing';
import type { DailyRow, DeploymentRepo, EnvironmentViewRow, Prisma } from '@qubot/db';
import type { TSchema } from 'typebox';
import { Value } from 'typebox/value';
import { dayOffset, doraReportView } from './dora-view.ts';
import { deploymentView, environmentView, strategyFromWire } from './views.ts';

export { Sim, T0 };

const json = (v: unknown) => v as Prisma.JsonValue;
const date = (iso: string | null) => (iso === null ? null : new Date(iso));

/** The value, after checking it against the contract (a fixture never hides a wrong shape). */
function checked<T>(schema: TSchema, value: T): T {
  if (!Value.Check(schema, value)) {
    const errors = [...Value.Errors(schema, value)].slice(0, 3);
    throw new Error(`fixture does not match the contract: ${JSON.stringify(errors)}`);
  }
  return value;
}

export interface DeploymentFixture {
  /** What the deployment is (packages/core `DeploymentInput`); defaults: v2 over v1, blue live, 3 replicas. */
  input: Partial<DeploymentInput> & Pick<DeploymentInput, 'strategy'>;
  /** Moves the machine to the moment the test needs (`sim.start().run()`, `sim.fireTimer(…)`…). */
  drive?: (sim: Sim) => void;
  id?: string;
  application?: string;
  environment?: string;
  kind?: Deployment['kind'];
  actor?: string;
  reason?: string | null;
  traffic?: Deployment['traffic'];
}

/** A `drive`: start, then run until the first analysis has measured (a canary's first step). */
export function settleFirstAnalysis(sim: Sim): void {
  sim.start().run({ timers: false });
  while (sim.state.analysis.length === 0) {
    sim.fireNextTimer();
    sim.run({ timers: false });
  }
}

/** The machine's state after `drive`. */
export function simulate(f: Pick<DeploymentFixture, 'input' | 'drive'>): DeploymentState {
  const sim = new Sim(f.input);
  f.drive?.(sim);
  return sim.state;
}

/** The deployment row the engine stores for `state` (engine.ts `applyIn`), with its relations. */
function deploymentRow(
  s: DeploymentState,
  f: Omit<DeploymentFixture, 'input' | 'drive'>,
): NonNullable<Awaited<ReturnType<DeploymentRepo['findById']>>> {
  const id = f.id ?? 'd0000000-0000-4000-8000-000000000001';
  const traffic = f.traffic ?? { requests: 0, failed: 0 };
  return {
    id,
    applicationId: 'a0000000-0000-4000-8000-000000000001',
    environmentId: 'e0000000-0000-4000-8000-000000000001',
    releaseId: 'r0000000-0000-4000-8000-000000000002',
    fromReleaseId: s.input.fromVersion ? 'r0000000-0000-4000-8000-000000000001' : null,
    kind: f.kind ?? 'deploy',
    strategy: strategyFromWire(s.strategy),
    status: s.status,
    waitingFor: s.waitingFor,
    waitingSince: null,
    options: json(s.options),
    state: json(s),
    progress: json(s.progress),
    analysis: json(s.analysis),
    reason: f.reason ?? null,
    actor: f.actor ?? 'alice',
    actorUserId: null,
    rollbackOfId: null,
    configVersionId: null,
    requestsServed: BigInt(traffic.requests),
    requestsFailed: BigInt(traffic.failed),
    trafficCounter: null,
    error: s.outcome && s.outcome.status !== 'succeeded' ? s.outcome.reason : null,
    createdAt: new Date(s.createdAt),
    startedAt: date(s.startedAt),
    finishedAt: date(s.finishedAt),
    updatedAt: new Date(s.finishedAt ?? s.startedAt ?? s.createdAt),
    application: { name: f.application ?? 'qubot-one' },
    environment: { name: f.environment ?? 'staging' },
    release: { version: s.input.version, artifact: `build/${s.input.version}` },
    fromRelease: s.input.fromVersion ? { version: s.input.fromVersion } : null,
    configVersion: null,
    steps: stepRows(s).map((step) => ({ id: `${id}-step-${step.position}`, deploymentId: id, ...step })),
  };
}

/** The machine's steps as the engine stores them (deployment_steps rows, without their ids). */
export function stepRows(s: DeploymentState) {
  return s.steps.map((step, position) => ({
    position,
    name: step.name,
    status: step.status,
    message: step.message,
    startedAt: date(step.startedAt),
    finishedAt: date(step.finishedAt),
  }));
}

/** A deployment as `GET /deployments/:id` and `deployment.updated` show it. */
export function deploymentFixture(f: DeploymentFixture): Deployment {
  const { input, drive, ...rest } = f;
  return checked(Deployment, deploymentView(deploymentRow(simulate({ input, drive }), rest)));
}

export interface EnvironmentFixture {
  name?: string;
  position?: number;
  protected?: boolean;
  requiresApproval?: boolean;
  /** Live release and its colour; null: nothing deployed yet. */
  live?: { version: string; color: 'blue' | 'green' } | null;
  previous?: string | null;
  replicas?: number;
  /** The deployment in progress here, if any. */
  active?: DeploymentFixture;
  routerStatus?: 'up' | 'down' | null;
  syntheticLoad?: boolean | null;
  /** Current configuration version (default 0) and how many running instances still run an older one. */
  config?: { version: number; drifted?: number };
}

/**
 * An environment as `GET /apps/:app/environments/:env` and `environment.updated` show it: with an
 * active deployment, its instances and traffic are what that deployment's progress has put in
 * motion; otherwise the live colour runs every replica and takes all traffic.
 */
export function environmentFixture(f: EnvironmentFixture = {}): Environment {
  const name = f.name ?? 'staging';
  const replicas = f.replicas ?? 2;
  const live = f.live === undefined ? { version: '1.0.0', color: 'blue' as const } : f.live;
  const state = f.active
    ? simulate({
        input: {
          fromVersion: live?.version ?? null,
          activeColor: live?.color ?? null,
          replicas,
          protected: f.protected ?? false,
          ...f.active.input,
        },
        drive: f.active.drive,
      })
    : null;
  const pools =
    state?.progress.pools ??
    ({
      blue: {
        version: live?.color === 'blue' ? live.version : null,
        instances: live?.color === 'blue' ? replicas : 0,
      },
      green: {
        version: live?.color === 'green' ? live.version : null,
        instances: live?.color === 'green' ? replicas : 0,
      },
    } as const);
  const weights = state?.progress.weights ?? {
    blue: live?.color === 'blue' ? 100 : 0,
    green: live?.color === 'green' ? 100 : 0,
  };
  const at = new Date(T0);
  const release = (version: string) => ({ id: `release-${version}`, version });
  const instances = (['blue', 'green'] as const).flatMap((pool) => {
    const p = pools[pool];
    return p.version === null
      ? []
      : Array.from({ length: p.instances }, (_, i) => ({
          id: `${name}-${pool}-${i + 1}`,
          environmentId: 'e0000000-0000-4000-8000-000000000001',
          deploymentId: null,
          releaseId: `release-${p.version}`,
          pool,
          host: '127.0.0.1',
          port: 41000 + (pool === 'blue' ? 0 : 100) + i,
          memoryMb: null,
          cpuPercent: null,
          oomKills: 0,
          lastOom: null,
          pid: null,
          supervisorPid: null,
          status: 'running' as const,
          healthy: true,
          restarts: 0,
          logPath: null,
          startedAt: at,
          stoppedAt: null,
          lastHealthAt: at,
          configVersion:
            i < (f.config?.drifted ?? 0) ? (f.config?.version ?? 1) - 1 : (f.config?.version ?? 0),
          configHash: null,
          hostId: null,
          enrolledHost: null,
          release: { version: p.version as string },
        }));
  });
  const row: EnvironmentViewRow = {
    id: 'e0000000-0000-4000-8000-000000000001',
    applicationId: 'a0000000-0000-4000-8000-000000000001',
    name,
    position: f.position ?? 0,
    protected: f.protected ?? false,
    requiresApproval: f.requiresApproval ?? false,
    address: `http://127.0.0.1:${40000 + (f.position ?? 0)}`,
    routerPort: 40000 + (f.position ?? 0),
    routerPid: null,
    routerControlPort: null,
    routerSecret: null,
    routerStatus: f.routerStatus === undefined ? (live ? 'up' : null) : f.routerStatus,
    routerRestarts: 0,
    routerOutageAt: null,
    trafficProvider: 'node',
    runtimeTarget: 'local',
    kubernetes: null,
    placement: 'local',
    activeColor: live?.color ?? null,
    traffic: json(
      (['blue', 'green'] as const).map((pool) => ({
        pool,
        version: pools[pool].version,
        weight: weights[pool],
      })),
    ),
    liveReleaseId: live ? `release-${live.version}` : null,
    previousReleaseId: f.previous ? `release-${f.previous}` : null,
    replicas,
    memoryMb: null,
    cpuPercent: null,
    policy: json({ mode: 'manual' }),
    settings: json({}),
    syntheticLoad: f.syntheticLoad ?? null,
    analysisOnInconclusive: null,
    analysisPrometheus: null,
    hooks: json({}),
    lockedBy: null,
    lockReason: null,
    createdAt: at,
    updatedAt: at,
    liveRelease: live ? release(live.version) : null,
    previousRelease: f.previous ? release(f.previous) : null,
    instances,
    configVersions: f.config?.version ? [{ version: f.config.version, configHash: null }] : [],
    deployments:
      // Only a deployment in progress is an environment's active one.
      state && f.active && !isTerminalStatus(state.status)
        ? [
            (() => {
              const { input: _input, drive: _drive, ...rest } = f.active;
              const d = deploymentRow(state, { environment: name, ...rest });
              const {
                application: _a,
                environment: _e,
                fromRelease: _f,
                configVersion: _c,
                steps: _s,
                ...own
              } = d;
              return { ...own, release: { version: d.release.version } };
            })(),
          ]
        : [],
  };
  return checked(Environment, environmentView(row));
}

/**
 * GET /apps/:app/dora as the server builds it (dora-view.ts) from daily rollup rows: by default a
 * development that deploys every day and a production with a failure and its restore, over 20
 * days before `now`.
 */
export function doraReportFixture(
  now = Date.parse('2026-12-01T12:00:00Z'),
  rows?: (Omit<DailyRow, 'day'> & { daysAgo: number })[],
): DoraReport {
  const row = (environmentId: string, daysAgo: number, r: Partial<DailyRow>) => ({
    environmentId,
    daysAgo,
    succeeded: 0,
    failed: 0,
    aborted: 0,
    leadTimeSum: 0,
    leadTimeCount: 0,
    restoreSum: 0,
    restoreCount: 0,
    ...r,
  });
  const given = rows ?? [
    ...Array.from({ length: 20 }, (_, i) =>
      row('dev', i, { succeeded: 1 + (i % 3), leadTimeSum: 600 * (1 + (i % 3)), leadTimeCount: 1 + (i % 3) }),
    ),
    row('prod', 2, {
      succeeded: 1,
      leadTimeSum: 86_400,
      leadTimeCount: 1,
      restoreSum: 1_800,
      restoreCount: 1,
    }),
    row('prod', 3, { failed: 1 }),
    row('prod', 12, { succeeded: 1, leadTimeSum: 172_800, leadTimeCount: 1 }),
  ];
  const daily: DailyRow[] = given.map(({ daysAgo, ...r }) => ({ ...r, day: dayOffset(now, daysAgo) }));
  return checked(
    DoraReport,
    doraReportView(
      'qubot-one',
      [
        { id: 'dev', name: 'development', position: 0 },
        { id: 'prod', name: 'production', position: 1 },
      ],
      daily,
      now,
    ),
  );
}
