// Domain types shared by the strategies, the orchestrator and the API (DESIGN §2, §3).
// Everything in a DeploymentState is plain JSON: it is stored in a jsonb column.

export const COLORS = ['blue', 'green'] as const;
export type Color = (typeof COLORS)[number];

export const STRATEGY_NAMES = ['blue-green', 'rolling', 'canary'] as const;
export type StrategyName = (typeof STRATEGY_NAMES)[number];

export const DEPLOYMENT_STATUSES = [
  'pending',
  'running',
  'paused',
  'succeeded',
  'failed',
  'rolled_back',
  'aborted',
] as const;
export type DeploymentStatus = (typeof DEPLOYMENT_STATUSES)[number];
export type TerminalStatus = 'succeeded' | 'failed' | 'rolled_back' | 'aborted';

export type WaitingFor = 'switch' | 'advance' | 'approval';
export type StepStatus = 'pending' | 'running' | 'succeeded' | 'failed' | 'skipped';

/** Traffic share per pool, in percent; the two always sum to 100. */
export type Weights = Record<Color, number>;

export const isTerminalStatus = (status: DeploymentStatus): status is TerminalStatus =>
  status === 'succeeded' || status === 'failed' || status === 'rolled_back' || status === 'aborted';

export const otherColor = (color: Color): Color => (color === 'blue' ? 'green' : 'blue');

export interface DeploymentStep {
  /** Stable machine name, e.g. `health`, `batch-3`, `weight-25`, `rollback`. */
  key: string;
  name: string;
  status: StepStatus;
  startedAt: string | null;
  finishedAt: string | null;
  message: string | null;
}

export type AnalysisMetric = 'health' | 'minRequests' | 'errorRate' | 'p95Ms';

/**
 * A check's verdict on one measurement. `inconclusive`: fewer samples than the check's minimum,
 * so it can neither pass nor fail yet (Argo Rollouts' word) — silence never passes.
 */
export type AnalysisVerdict = 'passed' | 'failed' | 'inconclusive';

export interface AnalysisResult {
  /** Key of the step the measurement belongs to. */
  step: string;
  pool: Color;
  metric: AnalysisMetric;
  /** Measured on the new pool; null when there was nothing to measure (no request, no latency). */
  value: number | null;
  threshold: number;
  /** `max`: value must be <= threshold; `min`: value must be >= threshold. */
  bound: 'max' | 'min';
  verdict: AnalysisVerdict;
  /** `verdict === 'passed'`. */
  passed: boolean;
  /** What the verdict rests on: requests measured (instances for `health`) and the minimum needed. */
  samples: number;
  minSamples: number;
  /** The same figure on the stable pool over the same window (null: not measured, or no requests). */
  baseline: number | null;
  at: string;
  /** Measurement window, epoch ms. */
  since: number;
  until: number;
  /**
   * Why the figure cannot be measured at all here (e.g. the traffic provider measures no latency):
   * the check stays inconclusive however long the step holds.
   */
  unavailable?: string;
  /** Where the traffic figures came from: the traffic provider's window or a Prometheus. */
  source?: 'router' | 'prometheus';
}

export interface PoolProgress {
  version: string | null;
  instances: number;
  ready: number;
}

export interface Progress {
  /** Healthy instances of the new release / the replica count it must reach. */
  instancesReady: number;
  instancesDesired: number;
  weights: Weights;
  activeColor: Color | null;
  pools: Record<Color, PoolProgress>;
  /** Index into `steps` of the step in progress (or last run), null before start. */
  currentStep: number | null;
  totalSteps: number;
  /**
   * Epoch ms the running step's timed hold ends (canary step, bake time, an inconclusive step's
   * extended hold); null when no timed hold runs (also while paused or waiting for a person).
   */
  holdUntil: number | null;
}

export type RollbackTrigger = 'failure' | 'timeout' | 'abort' | 'rollback';

export interface Outcome {
  status: TerminalStatus;
  reason: string;
  /** Key of the step that failed, when a step failed. */
  failedStep: string | null;
  /** The breached analysis result, when analysis caused the rollback. */
  failedMetric: AnalysisResult | null;
  trigger: RollbackTrigger | null;
  actor: string | null;
  /** What serves traffic once the deployment is over. */
  liveVersion: string | null;
  liveColor: Color | null;
}

// ---------------------------------------------------------------- commands

interface CommandBase {
  /** Stable id: `${phase}:${opIndex}:${kind}:${attempt}` (or `timer:`/`cancel:` + timer name). */
  id: string;
}

/**
 * Make `pool` run `total` instances of `version` (that is, start `count` more).
 * Drivers should reconcile on `total` so a re-issued command is harmless.
 */
export interface StartInstancesCommand extends CommandBase {
  kind: 'startInstances';
  pool: Color;
  version: string;
  count: number;
  total: number;
}
/** Stop `count` instances of `pool` ('all' = every one), leaving `total`. */
export interface StopInstancesCommand extends CommandBase {
  kind: 'stopInstances';
  pool: Color;
  count: number | 'all';
  total: number;
}
/** Wait until `count` instances of `pool` pass health checks; answer healthy/unhealthy/healthTimeout. */
export interface WaitHealthyCommand extends CommandBase {
  kind: 'waitHealthy';
  pool: Color;
  version: string;
  count: number;
  timeoutMs: number;
  /** Epoch ms; `timeoutMs` is recomputed from it when the command is re-issued after a restart. */
  deadline: number;
}
/** Apply weights on the environment's router; `activeColor` is the pool that is live afterwards. */
export interface SetTrafficCommand extends CommandBase {
  kind: 'setTraffic';
  weights: Weights;
  activeColor: Color | null;
}
/** Make the idle pool reachable on the environment's preview address. */
export interface ExposePreviewCommand extends CommandBase {
  kind: 'exposePreview';
  pool: Color;
}
export interface SmokeCheckCommand extends CommandBase {
  kind: 'smokeCheck';
  pool: Color;
  version: string;
  timeoutMs: number;
}
/** Ask the router for `pool`'s figures over [since, until] (epoch ms). */
export interface CollectMetricsCommand extends CommandBase {
  kind: 'collectMetrics';
  pool: Color;
  /** The stable pool to compare with (null: nothing live beside the new pool). */
  baselinePool?: Color | null;
  since: number;
  until: number;
  windowMs: number;
}
export type HookPhase = 'pre' | 'post';
/** A deployment hook to run: `job` through the application's job launcher, within `timeoutMs`. */
export interface HookSpec {
  job: string;
  timeoutMs: number;
}
/**
 * Run the `phase` hook as a job and answer `hookResult`. Never answered as passed unless this very
 * run exited 0: a run lost to a control-plane restart is reported failed (`interrupted`).
 */
export interface RunHookCommand extends CommandBase {
  kind: 'runHook';
  phase: HookPhase;
  job: string;
  version: string;
  timeoutMs: number;
}
/** Deliver `{ type: 'timerFired', name }` at `at` (epoch ms). Re-setting a name replaces it. */
export interface SetTimerCommand extends CommandBase {
  kind: 'setTimer';
  name: string;
  at: number;
}
export interface CancelTimerCommand extends CommandBase {
  kind: 'cancelTimer';
  name: string;
}

export type Command =
  | StartInstancesCommand
  | StopInstancesCommand
  | WaitHealthyCommand
  | SetTrafficCommand
  | ExposePreviewCommand
  | SmokeCheckCommand
  | CollectMetricsCommand
  | RunHookCommand
  | SetTimerCommand
  | CancelTimerCommand;
export type CommandKind = Command['kind'];

// ---------------------------------------------------------------- events

/** Results of commands: each names the command it answers. */
export type CommandResultEvent =
  | { type: 'instancesStarted'; commandId: string }
  | { type: 'instancesStopped'; commandId: string }
  | { type: 'healthy'; commandId: string; count?: number }
  | { type: 'unhealthy'; commandId: string; message?: string; count?: number }
  | { type: 'healthTimeout'; commandId: string; count?: number }
  | { type: 'trafficSet'; commandId: string }
  | { type: 'previewReady'; commandId: string; url?: string }
  | { type: 'smokeResult'; commandId: string; passed: boolean; message?: string }
  | { type: 'hookResult'; commandId: string; passed: boolean; message?: string }
  | {
      type: 'metrics';
      commandId: string;
      requests: number;
      errors: number;
      /** 0..1; computed from errors/requests when absent. */
      errorRate?: number;
      p95Ms: number | null;
      /** Set when the router cannot measure latency at all (why): a latency check cannot pass. */
      p95Unavailable?: string;
      /**
       * Set when the analysis source gave no figures at all (why: e.g. its Prometheus cannot be
       * reached): every traffic check is inconclusive, never passed; the step keeps measuring up
       * to its inconclusive limit, then `onInconclusive` decides.
       */
      unavailable?: string;
      /** Where the traffic figures came from, recorded on each analysis row. */
      source?: 'router' | 'prometheus';
      /** Healthy instances of the pool, when the router knows it. */
      healthy?: number;
      /** The stable pool's figures over the same window (Kayenta-style comparison), when it has any. */
      baseline?: { requests: number; errors: number; errorRate?: number; p95Ms: number | null } | null;
    }
  | { type: 'commandFailed'; commandId: string; message: string };

export type UserAction = 'pause' | 'resume' | 'abort' | 'advance' | 'approve' | 'switch' | 'rollback';

export type UserActionEvent = {
  type: UserAction;
  actor?: string;
  reason?: string;
};

export type DeploymentEvent =
  | { type: 'start'; actor?: string }
  | CommandResultEvent
  | { type: 'timerFired'; name: string }
  | UserActionEvent
  /** The orchestrator restarted: re-issue what is in flight. */
  | { type: 'resumed' }
  /** A newer deployment took over the environment: drop post-success housekeeping. */
  | { type: 'superseded' };

export type DeploymentEventType = DeploymentEvent['type'];
