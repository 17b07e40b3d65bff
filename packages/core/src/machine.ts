// The deployment engine: runs a strategy's compiled program as a pure state machine.
// transition(state, event, now) never mutates `state` and never reads a clock.
import { type OptionError, parseStrategyOptions, type StrategyOptions } from './options.ts';
import {
  compileProgram,
  type DeploymentInput,
  type NormalizedInput,
  type Op,
  weightsFor,
} from './program.ts';
import {
  type AnalysisMetric,
  type AnalysisResult,
  type Color,
  type Command,
  type DeploymentEvent,
  type DeploymentStatus,
  type DeploymentStep,
  isTerminalStatus,
  type Outcome,
  otherColor,
  type Progress,
  type RollbackTrigger,
  type StrategyName,
  type TerminalStatus,
  type UserAction,
  type WaitingFor,
} from './types.ts';

export type Phase = 'forward' | 'rollback' | 'cleanup' | 'done';

/** Where a step's analysis stands while it holds (an `analysis` operation in flight). */
export interface AnalysisWatch {
  /** Epoch ms: the hold ends here; the step can pass from then on. */
  holdUntil: number;
  /** Measurements asked for so far in this step. */
  samples: number;
  /** A person cut the hold short: one more measurement, then on unless a check failed. */
  advanced: { actor: string | null } | null;
  /** Epoch ms: after an inconclusive end of hold, the step keeps holding at most until here. */
  extendedUntil?: number;
}

/** The operation in flight: a command awaiting its result, a timed hold, or a wait for a person. */
export interface InFlight {
  opIndex: number;
  attempt: number;
  /** Command awaiting a result (null for holds and waits). */
  command: Command | null;
  /** Timer that completes (hold) or times out (wait) this operation. */
  timer: string | null;
  since: number;
  /** Set while an `analysis` operation holds and measures. */
  analysis?: AnalysisWatch;
}

export interface DeploymentState {
  schemaVersion: 1;
  strategy: StrategyName;
  input: NormalizedInput;
  options: StrategyOptions;
  status: DeploymentStatus;
  waitingFor: WaitingFor | null;
  phase: Phase;
  steps: DeploymentStep[];
  program: Op[];
  rollbackProgram: Op[];
  /** Index of the next (or in-flight) operation in the current phase's program. */
  pc: number;
  inFlight: InFlight | null;
  /** Timers the orchestrator must deliver: name → epoch ms. */
  timers: Record<string, number>;
  /** A plain pause by a person: progress stops at the next operation boundary. */
  pause: { since: string; timer: string; actor: string | null } | null;
  pauseCount: number;
  /** What the forward program has put in motion; decides what a rollback must undo. */
  touched: { newStarted: boolean; trafficMoved: boolean; oldMin: number };
  /** Epoch ms of the last applied traffic change: analysis measures from there. */
  lastTrafficAt: number | null;
  rollback: {
    finalStatus: TerminalStatus;
    trigger: RollbackTrigger;
    reason: string;
    actor: string | null;
  } | null;
  progress: Progress;
  analysis: AnalysisResult[];
  outcome: Outcome | null;
  /** Ids of commands whose result has been applied (duplicates are ignored). */
  completedCommands: string[];
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
}

export interface TransitionResult {
  state: DeploymentState;
  /** Execute in order; each carries a stable id. */
  commands: Command[];
  /** Set when the event was a user action not allowed now (the API answers 409 with it). */
  rejected?: string;
  /** Set when the event was a stale or duplicate result (harmless; nothing changed). */
  ignored?: string;
}

export class InvalidOptionsError extends Error {
  constructor(readonly errors: OptionError[]) {
    super(`invalid deployment options: ${errors.map((e) => `${e.field} ${e.message}`).join('; ')}`);
    this.name = 'InvalidOptionsError';
  }
}

const iso = (ms: number): string => new Date(ms).toISOString();

// ---------------------------------------------------------------- creation

export function normalizeInput(input: DeploymentInput): NormalizedInput {
  if (!Number.isInteger(input.replicas) || input.replicas < 1) {
    throw new RangeError('replicas must be a positive integer');
  }
  if (input.scale) {
    // A scale works in the live pool: it is both the "new" and the active colour.
    if (input.fromVersion === null || input.activeColor === null || input.version !== input.fromVersion) {
      throw new RangeError('a scale needs a live release in an active colour');
    }
    if (!Number.isInteger(input.scale.from) || input.scale.from < 0) {
      throw new RangeError('scale.from must be a non-negative integer');
    }
    return {
      version: input.version,
      fromVersion: input.fromVersion,
      activeColor: input.activeColor,
      newColor: input.activeColor,
      oldColor: otherColor(input.activeColor),
      replicas: input.replicas,
      activeInstances: input.scale.from,
      idlePool: input.idlePool ?? { version: null, instances: 0 },
      protected: input.protected ?? false,
      requiresApproval: false,
      scale: {
        pool: input.activeColor,
        from: input.scale.from,
        to: input.replicas,
        ...(input.scale.drain ? { drain: input.scale.drain } : {}),
      },
    };
  }
  const newColor: Color = input.activeColor === 'blue' ? 'green' : 'blue';
  const live = input.fromVersion !== null;
  return {
    version: input.version,
    fromVersion: input.fromVersion,
    activeColor: input.activeColor,
    newColor,
    oldColor: otherColor(newColor),
    replicas: input.replicas,
    activeInstances: live ? (input.activeInstances ?? input.replicas) : 0,
    idlePool: input.idlePool ?? { version: null, instances: 0 },
    protected: input.protected ?? false,
    requiresApproval: input.requiresApproval ?? false,
    ...(input.weightsByInstances ? { weightsByInstances: true } : {}),
  };
}

/** A new deployment in status `pending`; send `{ type: 'start' }` to run it. Throws InvalidOptionsError. */
export function initialState(input: DeploymentInput, now: number): DeploymentState {
  const parsed = parseStrategyOptions(input.strategy, input.options ?? {}, {
    protected: input.protected,
    onInconclusive: input.onInconclusive ?? null,
  });
  if (!parsed.ok) throw new InvalidOptionsError(parsed.errors);
  const n = normalizeInput(input);
  const program = compileProgram(input.strategy, n, parsed.options, input.hooks);
  // A scale keeps the live pool at full weight.
  const weights = weightsFor(n.newColor, n.scale ? 100 : 0);
  return {
    schemaVersion: 1,
    strategy: input.strategy,
    input: n,
    options: parsed.options,
    status: 'pending',
    waitingFor: null,
    phase: 'forward',
    steps: program.steps,
    program: program.ops,
    rollbackProgram: [],
    pc: 0,
    inFlight: null,
    timers: {},
    pause: null,
    pauseCount: 0,
    touched: { newStarted: false, trafficMoved: false, oldMin: n.activeInstances },
    lastTrafficAt: null,
    rollback: null,
    progress: {
      instancesReady: n.scale ? n.scale.from : n.idlePool.version === n.version ? n.idlePool.instances : 0,
      instancesDesired: n.replicas,
      weights,
      activeColor: n.activeColor,
      pools: (n.scale
        ? {
            [n.scale.pool]: { version: n.version, instances: n.scale.from, ready: n.scale.from },
            [n.oldColor]: { version: n.idlePool.version, instances: n.idlePool.instances, ready: 0 },
          }
        : {
            [n.oldColor]: { version: n.fromVersion, instances: n.activeInstances, ready: n.activeInstances },
            [n.newColor]: { version: n.idlePool.version, instances: n.idlePool.instances, ready: 0 },
          }) as Progress['pools'],
      currentStep: null,
      totalSteps: program.steps.length,
      holdUntil: null,
    },
    analysis: [],
    outcome: null,
    completedCommands: [],
    createdAt: iso(now),
    startedAt: null,
    finishedAt: null,
  };
}

// ---------------------------------------------------------------- engine

interface Ctx {
  s: DeploymentState;
  cmds: Command[];
  now: number;
}

const currentProgram = (s: DeploymentState): Op[] => (s.phase === 'rollback' ? s.rollbackProgram : s.program);
const phasePrefix = (s: DeploymentState): string => (s.phase === 'rollback' ? 'rb' : 'fwd');

function setTimer(ctx: Ctx, name: string, at: number): void {
  ctx.s.timers[name] = at;
  ctx.cmds.push({ kind: 'setTimer', id: `timer:${name}`, name, at });
}

function cancelTimer(ctx: Ctx, name: string | null | undefined): void {
  if (!name || ctx.s.timers[name] === undefined) return;
  delete ctx.s.timers[name];
  ctx.cmds.push({ kind: 'cancelTimer', id: `cancel:${name}`, name });
}

function startStep(ctx: Ctx, index: number): void {
  const step = ctx.s.steps[index];
  if (step && step.status === 'pending') {
    step.status = 'running';
    step.startedAt = iso(ctx.now);
  }
  ctx.s.progress.currentStep = index;
}

function finishStep(
  ctx: Ctx,
  index: number,
  status: 'succeeded' | 'failed' | 'skipped',
  message?: string,
): void {
  const step = ctx.s.steps[index];
  if (!step) return;
  step.status = status;
  step.finishedAt = iso(ctx.now);
  if (message !== undefined) step.message = message;
}

function stepMessage(ctx: Ctx, index: number, message: string): void {
  const step = ctx.s.steps[index];
  if (step) step.message = message;
}

function buildCommand(ctx: Ctx, op: Op, id: string): Command | null {
  const o = ctx.s.options;
  switch (op.kind) {
    case 'start':
      return {
        kind: 'startInstances',
        id,
        pool: op.pool,
        version: op.version,
        count: op.count,
        total: op.total,
      };
    case 'stop':
      return { kind: 'stopInstances', id, pool: op.pool, count: op.count, total: op.total };
    case 'waitHealthy': {
      const timeoutMs = o.healthTimeoutSeconds * 1000;
      return {
        kind: 'waitHealthy',
        id,
        pool: op.pool,
        version: op.version,
        count: op.count,
        timeoutMs,
        deadline: ctx.now + timeoutMs,
      };
    }
    case 'traffic':
      return { kind: 'setTraffic', id, weights: { ...op.weights }, activeColor: op.activeColor };
    case 'preview':
      return { kind: 'exposePreview', id, pool: op.pool };
    case 'smoke':
      return {
        kind: 'smokeCheck',
        id,
        pool: op.pool,
        version: op.version,
        timeoutMs: o.healthTimeoutSeconds * 1000,
      };
    case 'hook':
      return {
        kind: 'runHook',
        id,
        phase: op.phase,
        job: op.job,
        version: ctx.s.input.version,
        timeoutMs: op.timeoutMs,
      };
    case 'analysis': {
      const since = ctx.s.lastTrafficAt ?? ctx.now;
      return {
        kind: 'collectMetrics',
        id,
        pool: op.pool,
        baselinePool: op.baseline ?? null,
        since,
        until: ctx.now,
        windowMs: ctx.now - since,
      };
    }
    default:
      return null;
  }
}

/** Record, at issue time, what a rollback would have to undo (pessimistic: the command may have run). */
function noteTouched(s: DeploymentState, cmd: Command): void {
  if (s.phase !== 'forward') return;
  const { newColor, oldColor, scale } = s.input;
  if (scale) {
    // Instances added to, or taken out of, the live pool.
    if (cmd.kind === 'startInstances') s.touched.newStarted = true;
    if (cmd.kind === 'stopInstances') s.touched.oldMin = Math.min(s.touched.oldMin, cmd.total);
    return;
  }
  if (cmd.kind === 'startInstances' && cmd.pool === newColor) s.touched.newStarted = true;
  if (cmd.kind === 'setTraffic' && (cmd.weights[newColor] > 0 || cmd.activeColor === newColor)) {
    s.touched.trafficMoved = true;
  }
  if (cmd.kind === 'stopInstances' && cmd.pool === oldColor) {
    s.touched.oldMin = Math.min(s.touched.oldMin, cmd.total);
  }
}

function issue(ctx: Ctx, op: Op, attempt: number, watch?: AnalysisWatch): void {
  const s = ctx.s;
  // Each measurement of a holding analysis is a command of its own.
  const id = watch
    ? `${phasePrefix(s)}:${s.pc}:${op.kind}:${watch.samples}.${attempt}`
    : `${phasePrefix(s)}:${s.pc}:${op.kind}:${attempt}`;
  const cmd = buildCommand(ctx, op, id);
  s.inFlight = {
    opIndex: s.pc,
    attempt,
    command: cmd,
    timer: null,
    since: ctx.now,
    ...(watch ? { analysis: watch } : {}),
  };
  if (cmd) {
    noteTouched(s, cmd);
    ctx.cmds.push(cmd);
  }
}

/** Start operations until one has to wait for the outside world. */
function run(ctx: Ctx): void {
  const s = ctx.s;
  for (;;) {
    if (s.phase === 'done' || s.inFlight) return;
    if (isTerminalStatus(s.status) && s.phase !== 'cleanup') return;
    if (s.pause && s.phase === 'forward') return;
    const program = currentProgram(s);
    const op = program[s.pc];
    if (!op) {
      finishPhase(ctx);
      return;
    }
    startStep(ctx, op.step);
    switch (op.kind) {
      case 'succeed':
        succeed(ctx);
        advancePc(ctx);
        continue;
      case 'hold': {
        const name = `${phasePrefix(s)}:${s.pc}:hold`;
        s.inFlight = { opIndex: s.pc, attempt: 1, command: null, timer: name, since: ctx.now };
        setTimer(ctx, name, ctx.now + op.ms);
        if (op.ms > 0) stepMessage(ctx, op.step, `holding until ${iso(ctx.now + op.ms)}`);
        return;
      }
      case 'wait': {
        const name = `${phasePrefix(s)}:${s.pc}:timeout`;
        s.inFlight = { opIndex: s.pc, attempt: 1, command: null, timer: name, since: ctx.now };
        s.status = 'paused';
        s.waitingFor = op.for;
        setTimer(ctx, name, ctx.now + s.options.waitTimeoutSeconds * 1000);
        stepMessage(ctx, op.step, `waiting for ${op.for}`);
        return;
      }
      case 'analysis':
        startAnalysis(ctx, op);
        return;
      default:
        issue(ctx, op, 1);
        return;
    }
  }
}

/** Move past the current operation; close its step when the next operation belongs to another. */
function advancePc(ctx: Ctx): void {
  const s = ctx.s;
  const program = currentProgram(s);
  const op = program[s.pc];
  s.inFlight = null;
  s.pc += 1;
  const next = program[s.pc];
  if (op && (!next || next.step !== op.step)) {
    const step = s.steps[op.step];
    if (step && step.status === 'running') finishStep(ctx, op.step, 'succeeded');
  }
}

function liveAfterForward(s: DeploymentState): { liveVersion: string; liveColor: Color } {
  return { liveVersion: s.input.version, liveColor: s.input.newColor };
}

function succeed(ctx: Ctx): void {
  const s = ctx.s;
  s.status = 'succeeded';
  s.waitingFor = null;
  s.finishedAt = iso(ctx.now);
  s.phase = 'cleanup';
  s.outcome = {
    status: 'succeeded',
    reason: s.input.scale?.drain
      ? `${s.input.scale.to} × ${s.input.version} serve on ${s.input.scale.pool}, none on ${s.input.scale.drain.host}`
      : s.input.scale
        ? `${s.input.scale.to} × ${s.input.version} serve on ${s.input.scale.pool}`
        : `${s.input.version} is live on ${s.input.newColor}`,
    failedStep: null,
    failedMetric: null,
    trigger: null,
    actor: null,
    ...liveAfterForward(s),
  };
}

function finishPhase(ctx: Ctx): void {
  const s = ctx.s;
  if (s.phase === 'rollback' && s.rollback) {
    s.status = s.rollback.finalStatus;
    s.finishedAt = iso(ctx.now);
    s.outcome = {
      ...(s.outcome as Outcome),
      status: s.rollback.finalStatus,
      liveVersion: s.input.fromVersion,
      liveColor: s.input.fromVersion === null ? null : s.input.activeColor,
    };
  }
  s.phase = 'done';
  s.inFlight = null;
}

/** A scale reverts to the count it started from: the extra instances stop, the stopped ones come back. */
function scaleRollbackProgram(s: DeploymentState, step: number): Op[] {
  const { input, touched } = s;
  const scale = input.scale;
  if (!scale) return [];
  const { pool, from } = scale;
  const ops: Op[] = [];
  if (touched.oldMin < from) {
    ops.push({
      kind: 'start',
      step,
      pool,
      version: input.version,
      count: from - touched.oldMin,
      total: from,
    });
    ops.push({ kind: 'waitHealthy', step, pool, version: input.version, count: from });
  }
  // A drain's replacements are its extra instances (the stop keeps `from`, unhealthy ones first).
  const extra = scale.to - from + (scale.drain?.count ?? 0);
  if (touched.newStarted) ops.push({ kind: 'stop', step, pool, count: extra, total: from });
  return ops;
}

function rollbackProgram(s: DeploymentState, step: number): Op[] {
  if (s.input.scale) return scaleRollbackProgram(s, step);
  const { input, touched } = s;
  const ops: Op[] = [];
  const { oldColor, newColor, fromVersion, activeInstances } = input;
  if (fromVersion !== null && touched.oldMin < activeInstances) {
    ops.push({
      kind: 'start',
      step,
      pool: oldColor,
      version: fromVersion,
      count: activeInstances - touched.oldMin,
      total: activeInstances,
    });
    ops.push({ kind: 'waitHealthy', step, pool: oldColor, version: fromVersion, count: activeInstances });
  }
  if (touched.trafficMoved) {
    ops.push({ kind: 'traffic', step, weights: weightsFor(newColor, 0), activeColor: input.activeColor });
  }
  if (touched.newStarted) ops.push({ kind: 'stop', step, pool: newColor, count: 'all', total: 0 });
  return ops;
}

/** Leave the forward program and return the environment to the release it had. */
function startRollback(
  ctx: Ctx,
  trigger: RollbackTrigger,
  reason: string,
  actor: string | null,
  failure?: { failedMetric?: AnalysisResult },
): void {
  const s = ctx.s;
  const failedStepIndex = s.inFlight
    ? currentProgram(s)[s.inFlight.opIndex]?.step
    : currentProgram(s)[s.pc]?.step;
  const failedStep = failedStepIndex === undefined ? null : (s.steps[failedStepIndex] ?? null);
  if (s.inFlight) cancelTimer(ctx, s.inFlight.timer);
  if (s.pause) cancelTimer(ctx, s.pause.timer);
  for (const [i, step] of s.steps.entries()) {
    if (step.status === 'running') {
      if (trigger === 'failure' || trigger === 'timeout') finishStep(ctx, i, 'failed', reason);
      else finishStep(ctx, i, 'skipped', reason);
    } else if (step.status === 'pending') {
      finishStep(ctx, i, 'skipped');
    }
  }
  const touchedLive = s.touched.trafficMoved || s.touched.oldMin < s.input.activeInstances;
  const finalStatus: TerminalStatus =
    trigger === 'abort' ? 'aborted' : trigger === 'rollback' || touchedLive ? 'rolled_back' : 'failed';
  const from = s.input.fromVersion;
  const name = s.input.scale
    ? `Return to ${s.input.scale.from} instances`
    : trigger === 'abort'
      ? from
        ? `Abort: return to ${from}`
        : 'Abort: clean up'
      : touchedLive || trigger === 'rollback'
        ? from
          ? `Roll back to ${from}`
          : 'Roll back'
        : `Clean up ${s.input.version} on ${s.input.newColor}`;
  s.steps.push({
    key: 'rollback',
    name,
    status: 'pending',
    startedAt: null,
    finishedAt: null,
    message: reason,
  });
  const step = s.steps.length - 1;
  s.progress.totalSteps = s.steps.length;
  s.rollbackProgram = rollbackProgram(s, step);
  s.rollback = { finalStatus, trigger, reason, actor };
  s.outcome = {
    status: finalStatus,
    reason,
    failedStep: trigger === 'failure' || trigger === 'timeout' ? (failedStep?.key ?? null) : null,
    failedMetric: failure?.failedMetric ?? null,
    trigger,
    actor,
    liveVersion: from,
    liveColor: from === null ? null : s.input.activeColor,
  };
  s.phase = 'rollback';
  s.pc = 0;
  s.inFlight = null;
  s.pause = null;
  s.waitingFor = null;
  s.status = 'running';
  startStep(ctx, step);
  if (s.rollbackProgram.length === 0) finishStep(ctx, step, 'succeeded', `${reason} (nothing to undo)`);
  run(ctx);
}

/** Something went wrong with the operation in flight. */
function fail(
  ctx: Ctx,
  reason: string,
  trigger: RollbackTrigger = 'failure',
  failedMetric?: AnalysisResult,
): void {
  const s = ctx.s;
  if (s.phase === 'forward') {
    startRollback(ctx, trigger, reason, null, failedMetric ? { failedMetric } : undefined);
    return;
  }
  const op = s.inFlight ? currentProgram(s)[s.inFlight.opIndex] : undefined;
  if (op) finishStep(ctx, op.step, 'failed', reason);
  if (s.inFlight) cancelTimer(ctx, s.inFlight.timer);
  s.inFlight = null;
  if (s.phase === 'rollback') {
    s.status = 'failed';
    s.finishedAt = iso(ctx.now);
    s.outcome = {
      ...(s.outcome as Outcome),
      status: 'failed',
      reason: `${s.rollback?.reason ?? 'rollback'}; then the rollback failed: ${reason}`,
      // Unknown: the environment needs a person to look at it.
      liveVersion: null,
      liveColor: null,
    };
  }
  // In cleanup the deployment stays succeeded; only the housekeeping step failed.
  s.phase = 'done';
}

// ---------------------------------------------------------------- results

const RESULT_FOR: Partial<Record<Command['kind'], readonly string[]>> = {
  startInstances: ['instancesStarted'],
  stopInstances: ['instancesStopped'],
  waitHealthy: ['healthy', 'unhealthy', 'healthTimeout'],
  setTraffic: ['trafficSet'],
  exposePreview: ['previewReady'],
  smokeCheck: ['smokeResult'],
  runHook: ['hookResult'],
  collectMetrics: ['metrics'],
};

// ---------------------------------------------------------------- analysis

/** Measurements kept per step; older ones are thinned (the first and the latest always stay). */
export const MAX_POINTS_PER_STEP = 30;
/** A long hold is measured at most this many times (the interval stretches to fit). */
const MAX_SAMPLES_PER_HOLD = 60;

/** The analysis options, with defaults for states stored before a field existed. */
function analysisSettings(s: DeploymentState) {
  const a = s.options.analysis;
  // Silence never passes: every traffic check needs at least one request.
  const fallback = Math.max(1, a.minRequests ?? 20);
  const minErrorRate = Math.max(1, a.minSamples?.errorRate ?? fallback);
  const minP95 = Math.max(1, a.minSamples?.p95Ms ?? fallback);
  return {
    maxErrorRate: a.maxErrorRate,
    maxP95Ms: a.maxP95Ms,
    minErrorRate,
    minP95,
    // The step passes once every check has its minimum: the largest of them.
    minRequests: Math.max(minErrorRate, a.maxP95Ms === null ? 0 : minP95),
    intervalMs: (a.intervalSeconds ?? 10) * 1000,
    limitMs: (a.inconclusiveLimitSeconds ?? 300) * 1000,
    onInconclusive: a.onInconclusive ?? (s.input.protected ? 'wait' : 'fail'),
  };
}

const seconds = (ms: number): string => {
  const total = Math.round(ms / 1000);
  if (total < 120) return `${total} s`;
  const m = Math.floor(total / 60);
  const rest = total % 60;
  return rest ? `${m} min ${rest} s` : `${m} min`;
};
const percent = (v: number): string => `${Number((v * 100).toFixed(2))} %`;
const clock = (ms: number): string => `${iso(ms).slice(11, 19)} UTC`;

function intervalFor(s: DeploymentState, holdMs: number): number {
  return Math.max(analysisSettings(s).intervalMs, Math.ceil(holdMs / MAX_SAMPLES_PER_HOLD));
}

/** Begin an analysis operation: measure now when it has no hold, else at the first interval. */
function startAnalysis(ctx: Ctx, op: Extract<Op, { kind: 'analysis' }>): void {
  const s = ctx.s;
  const holdMs = op.holdMs ?? 0;
  const watch: AnalysisWatch = { holdUntil: ctx.now + holdMs, samples: 0, advanced: null };
  if (holdMs <= 0) {
    measure(ctx, op, watch);
    return;
  }
  scheduleSample(ctx, watch, Math.min(ctx.now + intervalFor(s, holdMs), watch.holdUntil));
  const { minRequests } = analysisSettings(s);
  stepMessage(
    ctx,
    op.step,
    `holding ${seconds(holdMs)} (until ${clock(watch.holdUntil)}) while the analysis measures; at least ${minRequests} requests needed`,
  );
}

function scheduleSample(ctx: Ctx, watch: AnalysisWatch, at: number): void {
  const s = ctx.s;
  const name = `${phasePrefix(s)}:${s.pc}:sample`;
  s.inFlight = { opIndex: s.pc, attempt: 1, command: null, timer: name, since: ctx.now, analysis: watch };
  setTimer(ctx, name, at);
}

function measure(ctx: Ctx, op: Op, watch: AnalysisWatch): void {
  issue(ctx, op, 1, { ...watch, samples: watch.samples + 1 });
}

function evaluate(
  ctx: Ctx,
  op: Extract<Op, { kind: 'analysis' }>,
  cmd: Command,
  ev: Extract<DeploymentEvent, { type: 'metrics' }>,
): AnalysisResult[] {
  const s = ctx.s;
  const a = analysisSettings(s);
  const step = s.steps[op.step]?.key ?? '';
  const since = cmd.kind === 'collectMetrics' ? cmd.since : ctx.now;
  const until = cmd.kind === 'collectMetrics' ? cmd.until : ctx.now;
  const base = { step, pool: op.pool, at: iso(ctx.now), since, until };
  const results: AnalysisResult[] = [];
  const row = (
    metric: AnalysisMetric,
    value: number | null,
    threshold: number,
    bound: 'max' | 'min',
    verdict: AnalysisResult['verdict'],
    samples: number,
    minSamples: number,
    baseline: number | null,
    unavailable?: string,
  ) =>
    results.push({
      ...base,
      metric,
      value,
      threshold,
      bound,
      verdict,
      passed: verdict === 'passed',
      samples,
      minSamples,
      baseline,
      ...(unavailable ? { unavailable } : {}),
      ...(ev.source && metric !== 'health' ? { source: ev.source } : {}),
    });
  if (ev.healthy !== undefined) {
    const expected = s.progress.pools[op.pool].instances;
    const verdict = ev.healthy >= expected ? 'passed' : 'failed';
    row('health', ev.healthy, expected, 'min', verdict, ev.healthy, expected, null);
  }
  const b = ev.baseline ?? null;
  if (ev.unavailable) {
    // No figures at all from the analysis source: every traffic check stays inconclusive.
    row('minRequests', null, a.minRequests, 'min', 'inconclusive', 0, a.minRequests, null, ev.unavailable);
    row('errorRate', null, a.maxErrorRate, 'max', 'inconclusive', 0, a.minErrorRate, null, ev.unavailable);
    if (a.maxP95Ms !== null)
      row('p95Ms', null, a.maxP95Ms, 'max', 'inconclusive', 0, a.minP95, null, ev.unavailable);
    return results;
  }
  const requests = Math.max(0, ev.requests);
  const enough = requests >= a.minRequests;
  row(
    'minRequests',
    requests,
    a.minRequests,
    'min',
    enough ? 'passed' : 'inconclusive',
    requests,
    a.minRequests,
    b ? b.requests : null,
  );
  const errorRate = requests > 0 ? (ev.errorRate ?? ev.errors / requests) : null;
  const baselineRate = b && b.requests > 0 ? (b.errorRate ?? b.errors / b.requests) : null;
  const enoughForRate = requests >= a.minErrorRate;
  row(
    'errorRate',
    errorRate,
    a.maxErrorRate,
    'max',
    !enoughForRate || errorRate === null ? 'inconclusive' : errorRate > a.maxErrorRate ? 'failed' : 'passed',
    requests,
    a.minErrorRate,
    baselineRate,
  );
  // The latency check never disappears: without enough requests it is inconclusive.
  // A router that measures no latency never lets it pass: inconclusive, saying why.
  if (a.maxP95Ms !== null) {
    const p95 = requests > 0 && !ev.p95Unavailable ? ev.p95Ms : null;
    row(
      'p95Ms',
      p95,
      a.maxP95Ms,
      'max',
      requests < a.minP95 || p95 === null ? 'inconclusive' : p95 > a.maxP95Ms ? 'failed' : 'passed',
      requests,
      a.minP95,
      b && b.requests > 0 && !ev.p95Unavailable ? b.p95Ms : null,
      ev.p95Unavailable,
    );
  }
  return results;
}

/** A check in words, for step messages and the failure reason. */
export function describeCheck(r: AnalysisResult): string {
  const n =
    `${r.samples} request${r.samples === 1 ? '' : 's'}` +
    (r.verdict === 'inconclusive' ? `, fewer than ${r.minSamples}: not judged yet` : '');
  switch (r.metric) {
    case 'health':
      return `${r.value ?? 0} of ${r.threshold} instances healthy`;
    case 'minRequests':
      if (r.unavailable) return `the request count cannot be measured: ${r.unavailable}`;
      return `${r.value ?? 0} of at least ${r.threshold} requests`;
    case 'errorRate':
      if (r.unavailable) return `the error rate cannot be measured: ${r.unavailable}`;
      return r.value === null
        ? `error rate not measured (${n})`
        : `error rate ${percent(r.value)} ${r.value > r.threshold ? '>' : '≤'} max ${percent(r.threshold)} (${n})`;
    case 'p95Ms':
      if (r.unavailable)
        return `p95 latency cannot be measured: ${r.unavailable} (set analysis.maxP95Ms to null to judge on the error rate alone)`;
      return r.value === null
        ? `p95 latency not measured (${n})`
        : `p95 latency ${Math.round(r.value)} ms ${r.value > r.threshold ? '>' : '≤'} max ${r.threshold} ms (${n})`;
  }
}

/** Keep at most MAX_POINTS_PER_STEP measurements of `step`: drop the one closest to its predecessor. */
function keepBounded(s: DeploymentState, step: string): void {
  const times = [...new Set(s.analysis.filter((r) => r.step === step).map((r) => r.at))].sort();
  if (times.length <= MAX_POINTS_PER_STEP) return;
  let drop = 1;
  let gap = Number.POSITIVE_INFINITY;
  for (let i = 1; i < times.length - 1; i++) {
    const g = Date.parse(times[i] as string) - Date.parse(times[i - 1] as string);
    if (g < gap) {
      gap = g;
      drop = i;
    }
  }
  const at = times[drop];
  s.analysis = s.analysis.filter((r) => r.step !== step || r.at !== at);
}

/**
 * One measurement of a holding step. Returns true when the step is over and passed (go on);
 * otherwise the step failed (rollback started), keeps holding, or waits for a person.
 */
function onMeasurement(
  ctx: Ctx,
  op: Extract<Op, { kind: 'analysis' }>,
  cmd: Command,
  ev: Extract<DeploymentEvent, { type: 'metrics' }>,
): boolean {
  const s = ctx.s;
  const a = analysisSettings(s);
  const watch: AnalysisWatch = s.inFlight?.analysis ?? { holdUntil: ctx.now, samples: 1, advanced: null };
  const results = evaluate(ctx, op, cmd, ev);
  s.analysis.push(...results);
  keepBounded(s, s.steps[op.step]?.key ?? '');
  const stepName = s.steps[op.step]?.name ?? String(op.step);
  const decisive = ctx.now >= watch.holdUntil || watch.advanced !== null;
  const holdMs = op.holdMs ?? 0;
  const elapsed = ctx.now - (watch.holdUntil - holdMs);

  // Early abort: a check breached on enough samples fails the step now, whatever hold is left.
  // Health waits for the end of the hold (an instance restarting is the health monitor's business).
  const breach = results.find((r) => r.verdict === 'failed' && (decisive || r.metric !== 'health'));
  if (breach) {
    const when = decisive ? '' : ` after ${seconds(elapsed)} of its ${seconds(holdMs)} hold`;
    fail(ctx, `analysis failed at ${stepName}${when}: ${describeCheck(breach)}`, 'failure', breach);
    return false;
  }
  const requests = results.find((r) => r.metric === 'minRequests');
  // The analysis source gave nothing (e.g. Prometheus unreachable): it may come back, so the step
  // keeps measuring up to its inconclusive limit like a step short of requests.
  const sourceDown = requests?.unavailable ? requests : null;
  const missing = requests && requests.verdict !== 'passed' && !sourceDown ? requests : null;
  // A figure the router cannot measure will not come by waiting: decided at the end of the hold.
  const unmeasurable = sourceDown ? null : results.find((r) => r.unavailable && r.verdict === 'inconclusive');
  const need = missing
    ? `at least ${missing.threshold} requests (${missing.value ?? 0} so far)`
    : sourceDown
      ? describeCheck(sourceDown)
      : unmeasurable
        ? describeCheck(unmeasurable)
        : 'a latency figure';
  const figures = sourceDown
    ? ''
    : results
        .filter((r) => r.metric === 'errorRate' || r.metric === 'p95Ms')
        .map(describeCheck)
        .join(', ');

  if (!decisive) {
    scheduleSample(ctx, watch, Math.min(ctx.now + intervalFor(s, holdMs), watch.holdUntil));
    stepMessage(
      ctx,
      op.step,
      sourceDown
        ? `holding until ${clock(watch.holdUntil)}; analysis so far: ${describeCheck(sourceDown)}`
        : `holding until ${clock(watch.holdUntil)}; analysis so far: ${requests?.value ?? 0} requests${figures ? `, ${figures}` : ''}`,
    );
    return false;
  }
  const inconclusive = results.filter((r) => r.verdict === 'inconclusive');
  if (inconclusive.length === 0) {
    stepMessage(ctx, op.step, `analysis passed: ${figures || `${ev.requests} requests`}`);
    return true;
  }
  if (watch.advanced) {
    const by = watch.advanced.actor ? ` by ${watch.advanced.actor}` : '';
    stepMessage(ctx, op.step, `advanced${by} with the analysis inconclusive: waiting for ${need}`);
    return true;
  }
  const limitAt = watch.holdUntil + a.limitMs;
  if (ctx.now >= limitAt || (unmeasurable && !missing)) {
    const waited = seconds(ctx.now - (watch.holdUntil - holdMs));
    const reason =
      unmeasurable && !missing
        ? `analysis inconclusive at ${stepName}: ${need}`
        : `analysis inconclusive at ${stepName} after ${waited}: waiting for ${need}`;
    if (a.onInconclusive === 'fail') {
      fail(ctx, reason, 'failure', missing ?? sourceDown ?? unmeasurable ?? inconclusive[0]);
      return false;
    }
    // A person decides: advance accepts the step as it is; abort or rollback returns.
    const name = `${phasePrefix(s)}:${s.pc}:timeout`;
    s.inFlight = { opIndex: s.pc, attempt: 1, command: null, timer: name, since: ctx.now, analysis: watch };
    s.status = 'paused';
    s.waitingFor = 'advance';
    setTimer(ctx, name, ctx.now + s.options.waitTimeoutSeconds * 1000);
    stepMessage(ctx, op.step, `${reason}; advance to accept it, or roll back`);
    return false;
  }
  scheduleSample(
    ctx,
    { ...watch, extendedUntil: limitAt },
    Math.min(ctx.now + intervalFor(s, holdMs), limitAt),
  );
  stepMessage(
    ctx,
    op.step,
    `analysis inconclusive: waiting for ${need}; holding until ${clock(limitAt)} at most, then ${a.onInconclusive === 'fail' ? 'rolling back' : 'asking a person'}`,
  );
  return false;
}

function onResult(ctx: Ctx, ev: Extract<DeploymentEvent, { commandId: string }>): string | undefined {
  const s = ctx.s;
  const inFlight = s.inFlight;
  const cmd = inFlight?.command;
  if (!inFlight || !cmd || cmd.id !== ev.commandId) {
    return s.completedCommands.includes(ev.commandId)
      ? `duplicate result for ${ev.commandId}`
      : `no command ${ev.commandId} in flight`;
  }
  if (ev.type !== 'commandFailed' && !RESULT_FOR[cmd.kind]?.includes(ev.type)) {
    return `${ev.type} does not answer ${cmd.kind}`;
  }
  const op = currentProgram(s)[inFlight.opIndex]!;
  s.completedCommands.push(cmd.id);
  const pool = s.progress.pools;

  if (ev.type === 'commandFailed') {
    if (inFlight.attempt <= s.options.commandRetries) {
      stepMessage(ctx, op.step, `${cmd.kind} failed (${ev.message}); retrying`);
      issue(ctx, op, inFlight.attempt + 1, inFlight.analysis);
      return undefined;
    }
    fail(ctx, `${cmd.kind} failed: ${ev.message}`);
    return undefined;
  }

  switch (ev.type) {
    case 'instancesStarted':
      if (cmd.kind === 'startInstances') {
        pool[cmd.pool].instances = cmd.total;
        pool[cmd.pool].version = cmd.version;
      }
      break;
    case 'instancesStopped':
      if (cmd.kind === 'stopInstances') {
        pool[cmd.pool].instances = cmd.total;
        pool[cmd.pool].ready = Math.min(pool[cmd.pool].ready, cmd.total);
        if (cmd.total === 0) pool[cmd.pool].version = null;
      }
      break;
    case 'healthy':
      if (cmd.kind === 'waitHealthy') pool[cmd.pool].ready = ev.count ?? cmd.count;
      break;
    case 'unhealthy':
    case 'healthTimeout':
      if (cmd.kind === 'waitHealthy') {
        if (ev.count !== undefined) pool[cmd.pool].ready = ev.count;
        const why =
          ev.type === 'unhealthy'
            ? `failed health checks${ev.message ? `: ${ev.message}` : ''}`
            : `not healthy within ${Math.round(cmd.timeoutMs / 1000)}s${ev.count !== undefined ? ` (${ev.count}/${cmd.count} healthy)` : ''}`;
        updateReady(s);
        fail(
          ctx,
          `${cmd.version} on ${cmd.pool} ${why}`,
          ev.type === 'healthTimeout' ? 'timeout' : 'failure',
        );
        return undefined;
      }
      break;
    case 'trafficSet':
      if (cmd.kind === 'setTraffic') {
        s.progress.weights = { ...cmd.weights };
        s.progress.activeColor = cmd.activeColor;
        s.lastTrafficAt = ctx.now;
      }
      break;
    case 'previewReady':
      if (ev.url) stepMessage(ctx, op.step, `preview at ${ev.url}`);
      break;
    case 'smokeResult':
      if (!ev.passed) {
        fail(ctx, `smoke check failed${ev.message ? `: ${ev.message}` : ''}`);
        return undefined;
      }
      if (ev.message) stepMessage(ctx, op.step, ev.message);
      break;
    case 'hookResult':
      if (cmd.kind === 'runHook') {
        if (!ev.passed) {
          const what = cmd.phase === 'pre' ? 'pre-deployment' : 'post-deployment';
          fail(ctx, `${what} hook ${cmd.job} failed${ev.message ? `: ${ev.message}` : ''}`);
          return undefined;
        }
        if (ev.message) stepMessage(ctx, op.step, ev.message);
      }
      break;
    case 'metrics': {
      if (op.kind !== 'analysis') break;
      if (!onMeasurement(ctx, op, cmd, ev)) return undefined;
      break;
    }
  }
  updateReady(s);
  advancePc(ctx);
  run(ctx);
  return undefined;
}

function updateReady(s: DeploymentState): void {
  s.progress.instancesReady = s.progress.pools[s.input.newColor].ready;
}

// ---------------------------------------------------------------- user actions

function currentOp(s: DeploymentState): Op | undefined {
  return s.inFlight ? currentProgram(s)[s.inFlight.opIndex] : undefined;
}

/** The user actions the deployment accepts now (for buttons and 409s). */
export function allowedActions(s: DeploymentState): UserAction[] {
  if (s.status === 'pending') return ['abort'];
  if (s.phase !== 'forward' || isTerminalStatus(s.status)) return [];
  const actions: UserAction[] = [];
  const op = currentOp(s);
  if (s.waitingFor === null) {
    actions.push(s.pause ? 'resume' : 'pause');
    if ((op?.kind === 'hold' || op?.kind === 'analysis') && op.advanceable && !s.pause)
      actions.push('advance');
  } else if (s.waitingFor === 'approval') {
    actions.push('approve');
  } else if (s.waitingFor === 'switch') {
    actions.push('switch', 'advance');
  } else {
    actions.push('advance');
  }
  actions.push('abort', 'rollback');
  return actions;
}

function onAction(ctx: Ctx, ev: Extract<DeploymentEvent, { type: UserAction }>): string | undefined {
  const s = ctx.s;
  if (!allowedActions(s).includes(ev.type)) {
    const where = s.waitingFor
      ? `${s.status}, waiting for ${s.waitingFor}`
      : s.phase === 'rollback'
        ? 'rolling back'
        : s.status;
    return `cannot ${ev.type} a deployment that is ${where}`;
  }
  const actor = ev.actor ?? null;
  const by = actor ? ` by ${actor}` : '';
  switch (ev.type) {
    case 'abort':
      if (s.status === 'pending') {
        s.status = 'aborted';
        s.phase = 'done';
        s.finishedAt = iso(ctx.now);
        for (const [i, step] of s.steps.entries())
          if (step.status === 'pending') finishStep(ctx, i, 'skipped');
        s.outcome = {
          status: 'aborted',
          reason: ev.reason ?? `aborted${by} before it started`,
          failedStep: null,
          failedMetric: null,
          trigger: 'abort',
          actor,
          liveVersion: s.input.fromVersion,
          liveColor: s.input.fromVersion === null ? null : s.input.activeColor,
        };
        return undefined;
      }
      startRollback(ctx, 'abort', ev.reason ?? `aborted${by}`, actor);
      return undefined;
    case 'rollback':
      startRollback(ctx, 'rollback', ev.reason ?? `rolled back${by}`, actor);
      return undefined;
    case 'pause': {
      s.pauseCount += 1;
      const timer = `pause:${s.pauseCount}:timeout`;
      s.pause = { since: iso(ctx.now), timer, actor };
      s.status = 'paused';
      setTimer(ctx, timer, ctx.now + s.options.waitTimeoutSeconds * 1000);
      return undefined;
    }
    case 'resume':
      cancelTimer(ctx, s.pause?.timer);
      s.pause = null;
      s.status = 'running';
      run(ctx);
      return undefined;
    case 'approve':
    case 'switch':
    case 'advance': {
      const op = currentOp(s);
      if (!op) return 'nothing to advance';
      const watch = s.inFlight?.analysis;
      if (op.kind === 'analysis' && watch && s.waitingFor === null) {
        // Cut the hold short, but not the analysis: measure now and decide (a breach still fails).
        const cut: AnalysisWatch = {
          ...watch,
          holdUntil: Math.min(watch.holdUntil, ctx.now),
          advanced: { actor },
        };
        stepMessage(ctx, op.step, `advanced${by}: measuring once more`);
        if (s.inFlight?.command) {
          s.inFlight.analysis = cut;
        } else {
          cancelTimer(ctx, s.inFlight?.timer);
          measure(ctx, op, cut);
        }
        return undefined;
      }
      const label = ev.type === 'approve' ? 'approved' : ev.type === 'switch' ? 'switched' : 'advanced';
      cancelTimer(ctx, s.inFlight?.timer);
      stepMessage(ctx, op.step, `${label}${by}`);
      s.status = 'running';
      s.waitingFor = null;
      advancePc(ctx);
      run(ctx);
      return undefined;
    }
  }
}

function onTimer(ctx: Ctx, name: string): string | undefined {
  const s = ctx.s;
  if (s.timers[name] === undefined) return `timer ${name} is not set`;
  delete s.timers[name];
  if (s.pause?.timer === name) {
    fail(ctx, `paused for longer than ${s.options.waitTimeoutSeconds}s`, 'timeout');
    return undefined;
  }
  const op = currentOp(s);
  if (!op || s.inFlight?.timer !== name) return `timer ${name} belongs to no operation`;
  if (op.kind === 'wait') {
    fail(ctx, `no ${op.for} within ${s.options.waitTimeoutSeconds}s`, 'timeout');
    return undefined;
  }
  if (op.kind === 'analysis') {
    const watch = s.inFlight?.analysis ?? { holdUntil: ctx.now, samples: 0, advanced: null };
    if (s.waitingFor === 'advance') {
      fail(ctx, `no advance within ${s.options.waitTimeoutSeconds}s`, 'timeout');
      return undefined;
    }
    measure(ctx, op, watch);
    return undefined;
  }
  advancePc(ctx);
  run(ctx);
  return undefined;
}

/** After an orchestrator restart: ask again for everything still outstanding, with the same ids. */
function onResumed(ctx: Ctx): void {
  const s = ctx.s;
  for (const [name, at] of Object.entries(s.timers))
    ctx.cmds.push({ kind: 'setTimer', id: `timer:${name}`, name, at });
  const cmd = s.inFlight?.command;
  if (cmd) {
    ctx.cmds.push(
      cmd.kind === 'waitHealthy' ? { ...cmd, timeoutMs: Math.max(0, cmd.deadline - ctx.now) } : { ...cmd },
    );
  }
}

function onSuperseded(ctx: Ctx): string | undefined {
  const s = ctx.s;
  if (s.phase !== 'cleanup')
    return s.phase === 'done' ? 'nothing left to do' : 'deployment is still in progress';
  const op = currentOp(s) ?? currentProgram(s)[s.pc];
  if (s.inFlight?.command) return 'housekeeping already under way';
  if (s.inFlight) cancelTimer(ctx, s.inFlight.timer);
  if (op) finishStep(ctx, op.step, 'skipped', 'superseded by a newer deployment');
  for (const [i, step] of s.steps.entries()) if (step.status === 'pending') finishStep(ctx, i, 'skipped');
  s.inFlight = null;
  s.phase = 'done';
  return undefined;
}

/**
 * The single entry point: apply one event at time `now` (epoch ms).
 * Pure: returns a new state and the commands to execute, in order.
 */
export function transition(state: DeploymentState, event: DeploymentEvent, now: number): TransitionResult {
  const ctx: Ctx = { s: structuredClone(state), cmds: [], now };
  const s = ctx.s;
  let note: { rejected?: string; ignored?: string } = {};
  switch (event.type) {
    case 'start':
      if (s.status !== 'pending') {
        note = { ignored: 'already started' };
        break;
      }
      s.status = 'running';
      s.startedAt = iso(now);
      run(ctx);
      break;
    case 'instancesStarted':
    case 'instancesStopped':
    case 'healthy':
    case 'unhealthy':
    case 'healthTimeout':
    case 'trafficSet':
    case 'previewReady':
    case 'smokeResult':
    case 'hookResult':
    case 'metrics':
    case 'commandFailed': {
      const ignored = onResult(ctx, event);
      if (ignored) note = { ignored };
      break;
    }
    case 'timerFired': {
      const ignored = onTimer(ctx, event.name);
      if (ignored) note = { ignored };
      break;
    }
    case 'pause':
    case 'resume':
    case 'abort':
    case 'advance':
    case 'approve':
    case 'switch':
    case 'rollback': {
      const rejected = onAction(ctx, event);
      if (rejected) note = { rejected };
      break;
    }
    case 'resumed':
      onResumed(ctx);
      break;
    case 'superseded': {
      const ignored = onSuperseded(ctx);
      if (ignored) note = { ignored };
      break;
    }
    default:
      // Events come from JSON (queues, the database): tolerate what this version does not know.
      note = { ignored: `unknown event ${(event as { type?: unknown }).type}` };
  }
  if (note.rejected || note.ignored) return { state, commands: [], ...note };
  s.progress.holdUntil = holdDeadline(s, now);
  return { state: s, commands: ctx.cmds };
}

/**
 * Epoch ms the running step's timed hold ends (a plain hold, an analysis hold, or an inconclusive
 * step's extended hold), null when nothing is timed: typed, so nobody parses step messages.
 */
function holdDeadline(s: DeploymentState, now: number): number | null {
  const f = s.inFlight;
  if (!f || s.status !== 'running' || s.phase !== 'forward') return null;
  if (f.analysis) {
    if (f.analysis.advanced) return null;
    if (f.analysis.holdUntil > now) return f.analysis.holdUntil;
    return f.analysis.extendedUntil !== undefined && f.analysis.extendedUntil > now
      ? f.analysis.extendedUntil
      : null;
  }
  if (f.timer?.endsWith(':hold')) {
    const at = s.timers[f.timer];
    return at !== undefined && at > now ? at : null;
  }
  return null;
}

export const isFinished = (s: DeploymentState): boolean => s.phase === 'done';
