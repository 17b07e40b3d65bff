// Each strategy compiles to a flat program of operations grouped into UI steps. The
// engine (machine.ts) runs the program one operation at a time, so a strategy is data
// and "where are we" is just an index, which is what makes restart and replay simple.
import {
  type BlueGreenOptions,
  type CanaryOptions,
  type RollingOptions,
  resolveQuantity,
  type StrategyOptions,
} from './options.ts';
import type {
  Color,
  DeploymentStep,
  HookPhase,
  HookSpec,
  StrategyName,
  WaitingFor,
  Weights,
} from './types.ts';

export type Op =
  | { kind: 'start'; step: number; pool: Color; version: string; count: number; total: number }
  | { kind: 'stop'; step: number; pool: Color; count: number | 'all'; total: number }
  | { kind: 'waitHealthy'; step: number; pool: Color; version: string; count: number }
  | { kind: 'traffic'; step: number; weights: Weights; activeColor: Color | null }
  | { kind: 'preview'; step: number; pool: Color }
  | { kind: 'smoke'; step: number; pool: Color; version: string }
  /**
   * Hold `holdMs` while measuring the pool's traffic since the last traffic change every
   * `analysis.intervalSeconds`; a breach with enough samples fails at once (early abort), and the
   * step passes only when every check has passed — an inconclusive one keeps it holding.
   * `baseline`: the stable pool, measured beside it. Programs stored before `holdMs` existed mean 0.
   */
  | {
      kind: 'analysis';
      step: number;
      pool: Color;
      holdMs?: number;
      advanceable?: boolean;
      baseline?: Color | null;
    }
  /** Timed hold; `advanceable` lets a person cut it short with `advance`. */
  | { kind: 'hold'; step: number; ms: number; advanceable: boolean }
  /** Wait for a person. */
  | { kind: 'wait'; step: number; for: WaitingFor }
  /** Run a deployment hook (a job); a failure fails the step. */
  | { kind: 'hook'; step: number; phase: HookPhase; job: string; timeoutMs: number }
  /** The release is live: the deployment succeeds here; later ops are housekeeping. */
  | { kind: 'succeed'; step: number };

/** What the machine needs to know about the environment when the deployment is created. */
export interface DeploymentInput {
  strategy: StrategyName;
  /** Release being deployed. */
  version: string;
  /** Release live in the environment now (what abort and rollback return to); null on a first deployment. */
  fromVersion: string | null;
  /** Colour serving `fromVersion`; null when nothing is live. The new release goes to the other one. */
  activeColor: Color | null;
  /** Instances the new release must reach. */
  replicas: number;
  /** Instances running in the active pool now; defaults to `replicas` when something is live, else 0. */
  activeInstances?: number;
  /** What already runs in the idle pool (e.g. the previous colour kept warm). */
  idlePool?: { version: string | null; instances: number } | null;
  protected?: boolean;
  requiresApproval?: boolean;
  /** The environment's `analysisOnInconclusive` setting (null: follow protection). */
  onInconclusive?: 'fail' | 'wait' | null;
  /** Raw options; validated with parseStrategyOptions. */
  options?: unknown;
  /**
   * A scale of what is live (kind `scale`): `fromVersion` stays on `activeColor`, going from
   * `scale.from` instances to `replicas`. Nothing else changes (no colour, no weight).
   */
  scale?: { from: number; drain?: ScaleDrain | null } | null;
  /** The environment's hooks: `pre` runs before anything starts, `post` once traffic has moved. */
  hooks?: { pre?: HookSpec | null; post?: HookSpec | null };
  /**
   * Canary weights are served only as whole instances (Kubernetes replica ratio): each step scales
   * the canary to round(weight × replicas) instances (at least 1) and the old colour to the rest
   * (at least 1), so the split is as close to the weight as whole pods allow.
   */
  weightsByInstances?: boolean;
}

export interface NormalizedInput {
  version: string;
  fromVersion: string | null;
  activeColor: Color | null;
  newColor: Color;
  oldColor: Color;
  replicas: number;
  activeInstances: number;
  idlePool: { version: string | null; instances: number };
  protected: boolean;
  requiresApproval: boolean;
  /** A scale of the live pool (`pool` = activeColor = newColor): from → to instances. */
  scale?: { pool: Color; from: number; to: number; drain?: ScaleDrain | null } | null;
  /** See `DeploymentInput.weightsByInstances`. */
  weightsByInstances?: boolean;
}

/**
 * A drain (kind `drain`, docs/hosts.md): `count` of the live pool's instances run on `host`, which
 * takes no new ones; as many replacements start elsewhere and serve before those are stopped.
 */
export interface ScaleDrain {
  host: string;
  count: number;
}

/** Replica ratio: the canary and old instance counts that serve `weight` % as closely as whole instances can. */
export function instancesForWeight(weight: number, replicas: number): { canary: number; old: number } {
  const canary = Math.min(replicas, Math.max(1, Math.round((weight / 100) * replicas)));
  return { canary, old: Math.max(1, replicas - canary) };
}

export interface Program {
  steps: DeploymentStep[];
  ops: Op[];
}

class Builder {
  readonly steps: DeploymentStep[] = [];
  readonly ops: Op[] = [];

  step(key: string, name: string): number {
    this.steps.push({ key, name, status: 'pending', startedAt: null, finishedAt: null, message: null });
    return this.steps.length - 1;
  }

  skipped(key: string, name: string, message: string): void {
    const i = this.step(key, name);
    const s = this.steps[i]!;
    s.status = 'skipped';
    s.message = message;
  }

  op(o: Op): void {
    this.ops.push(o);
  }

  /** The idle pool may still hold an older release (a colour kept warm): clear it first. */
  clearIdle(step: number, input: NormalizedInput): void {
    const idle = input.idlePool;
    if (idle.instances > 0 && idle.version !== input.version) {
      this.op({ kind: 'stop', step, pool: input.newColor, count: 'all', total: 0 });
    }
  }

  /** Instances of the new release already in the idle pool (a warm colour being switched back to). */
  reusable(input: NormalizedInput): number {
    const idle = input.idlePool;
    return idle.version === input.version ? Math.min(idle.instances, input.replicas) : 0;
  }

  build(): Program {
    return { steps: this.steps, ops: this.ops };
  }
}

const weights = (newColor: Color, newWeight: number): Weights => {
  const w = { blue: 0, green: 0 } as Weights;
  w[newColor] = newWeight;
  w[newColor === 'blue' ? 'green' : 'blue'] = 100 - newWeight;
  return w;
};

export const weightsFor = weights;

function approval(b: Builder, input: NormalizedInput): void {
  if (input.requiresApproval) {
    const s = b.step('approval', 'Approval');
    b.op({ kind: 'wait', step: s, for: 'approval' });
  } else {
    b.skipped('approval', 'Approval', 'not required in this environment');
  }
}

function blueGreen(input: NormalizedInput, o: BlueGreenOptions): Program {
  const b = new Builder();
  const { newColor: n, oldColor: old, version, replicas } = input;

  const warm = b.reusable(input);
  if (warm >= replicas) {
    b.skipped('start', `Start ${version} on ${n}`, `${warm} instances of ${version} already running on ${n}`);
  } else {
    const s = b.step('start', `Start ${version} on ${n}`);
    b.clearIdle(s, input);
    b.op({ kind: 'start', step: s, pool: n, version, count: replicas - warm, total: replicas });
  }
  const h = b.step('health', 'Health check');
  b.op({ kind: 'waitHealthy', step: h, pool: n, version, count: replicas });
  const p = b.step('preview', `Preview on ${n}`);
  b.op({ kind: 'preview', step: p, pool: n });
  if (o.smokeCheck) {
    const s = b.step('smoke', 'Smoke check');
    b.op({ kind: 'smoke', step: s, pool: n, version });
  } else {
    b.skipped('smoke', 'Smoke check', 'not configured');
  }
  approval(b, input);
  const sw = b.step('switch', `Switch traffic to ${n}`);
  if (!o.autoSwitch) b.op({ kind: 'wait', step: sw, for: 'switch' });
  b.op({ kind: 'traffic', step: sw, weights: weights(n, 100), activeColor: n });
  if (o.analysis.enabled) {
    const v = b.step('verify', 'Analysis after switch');
    b.op({
      kind: 'analysis',
      step: v,
      pool: n,
      holdMs: o.analysis.windowSeconds * 1000,
      advanceable: false,
      baseline: null,
    });
    b.op({ kind: 'succeed', step: v });
  } else {
    b.op({ kind: 'succeed', step: sw });
  }
  if (input.fromVersion !== null && input.activeInstances > 0) {
    const s = b.step('scale-down', `Scale down ${old} after the rollback window`);
    b.op({ kind: 'hold', step: s, ms: o.rollbackWindowSeconds * 1000, advanceable: false });
    b.op({ kind: 'stop', step: s, pool: old, count: 'all', total: 0 });
  }
  return b.build();
}

export interface Batch {
  /** Old instances stopped before any new one starts (only when maxSurge is 0). */
  preRemove: number;
  add: number;
  remove: number;
  /** Counts after the batch. */
  newTotal: number;
  oldTotal: number;
}

/**
 * Batches that keep running instances <= replicas + surge and available >= replicas - unavailable,
 * the two bounds Kubernetes Deployments keep.
 */
export function planBatches(replicas: number, oldCount: number, surge: number, unavailable: number): Batch[] {
  let s = surge;
  const u = unavailable;
  if (s <= 0 && u <= 0) s = 1;
  let n = 0;
  let o = oldCount;
  const batches: Batch[] = [];
  while (n < replicas || o > 0) {
    let preRemove = 0;
    let add = Math.min(replicas - n, replicas + s - (n + o));
    if (add <= 0) {
      preRemove = Math.max(0, Math.min(o, n + o - (replicas - u)));
      o -= preRemove;
      add = Math.max(0, Math.min(replicas - n, replicas + s - (n + o)));
    }
    n += add;
    const remove = Math.max(0, Math.min(o, n + o - (replicas - u)));
    o -= remove;
    if (preRemove + add + remove === 0) break;
    batches.push({ preRemove, add, remove, newTotal: n, oldTotal: o });
  }
  return batches;
}

function rolling(input: NormalizedInput, o: RollingOptions): Program {
  const b = new Builder();
  const { newColor: n, oldColor: old, version, replicas } = input;
  approval(b, input);
  const surge = resolveQuantity(o.maxSurge, replicas, 'up');
  const unavailable = resolveQuantity(o.maxUnavailable, replicas, 'down');
  const warm = b.reusable(input);
  const batches = planBatches(replicas - warm, input.activeInstances, surge, unavailable);
  const proportional = (newCount: number, oldCount: number): Weights =>
    weights(n, Math.round((100 * newCount) / (newCount + oldCount)));

  let oldBefore = input.activeInstances;
  batches.forEach((batch, i) => {
    const parts = [
      batch.add > 0 ? `+${batch.add} new` : null,
      batch.preRemove + batch.remove > 0 ? `−${batch.preRemove + batch.remove} old` : null,
    ];
    const s = b.step(
      `batch-${i + 1}`,
      `Batch ${i + 1}/${batches.length}: ${parts.filter(Boolean).join(', ')}`,
    );
    const newTotal = batch.newTotal + warm;
    if (i === 0) b.clearIdle(s, input);
    if (batch.preRemove > 0) {
      const left = oldBefore - batch.preRemove;
      const before = newTotal - batch.add;
      if (before + left > 0) {
        b.op({
          kind: 'traffic',
          step: s,
          weights: proportional(before, left),
          activeColor: input.activeColor,
        });
      }
      b.op({ kind: 'stop', step: s, pool: old, count: batch.preRemove, total: left });
      oldBefore = left;
    }
    if (batch.add > 0) {
      b.op({ kind: 'start', step: s, pool: n, version, count: batch.add, total: newTotal });
      b.op({ kind: 'waitHealthy', step: s, pool: n, version, count: newTotal });
    }
    const done = batch.oldTotal === 0 && batch.newTotal + warm >= replicas;
    b.op({
      kind: 'traffic',
      step: s,
      weights: proportional(newTotal, batch.oldTotal),
      activeColor: batch.oldTotal === 0 ? n : input.activeColor,
    });
    if (batch.remove > 0) {
      b.op({ kind: 'stop', step: s, pool: old, count: batch.remove, total: batch.oldTotal });
    }
    oldBefore = batch.oldTotal;
    if (o.analysis.enabled) {
      b.op({
        kind: 'analysis',
        step: s,
        pool: n,
        holdMs: o.analysis.windowSeconds * 1000,
        advanceable: false,
        baseline: batch.oldTotal > 0 ? old : null,
      });
    }
    if (!done) {
      const pause = o.pauseBetweenBatchesSeconds;
      if (pause === 'manual') b.op({ kind: 'wait', step: s, for: 'advance' });
      else if (pause > 0) b.op({ kind: 'hold', step: s, ms: pause * 1000, advanceable: true });
    }
    if (i === batches.length - 1) b.op({ kind: 'succeed', step: s });
  });
  if (batches.length === 0) {
    // Nothing to replace (the new release already runs at full count): just make it live.
    const s = b.step('switch', `Switch traffic to ${n}`);
    b.op({ kind: 'waitHealthy', step: s, pool: n, version, count: replicas });
    b.op({ kind: 'traffic', step: s, weights: weights(n, 100), activeColor: n });
    b.op({ kind: 'succeed', step: s });
  }
  return b.build();
}

function canary(input: NormalizedInput, o: CanaryOptions): Program {
  const b = new Builder();
  const { newColor: n, oldColor: old, version, replicas } = input;
  const canaryCount = Math.min(o.canaryReplicas, replicas);
  const warm = b.reusable(input);
  const hasLive = input.fromVersion !== null && input.activeInstances > 0;

  const s0 = b.step('start', `Start canary (${canaryCount} × ${version}) on ${n}`);
  b.clearIdle(s0, input);
  if (warm < canaryCount) {
    b.op({ kind: 'start', step: s0, pool: n, version, count: canaryCount - warm, total: canaryCount });
  }
  let started = Math.max(warm, canaryCount);
  b.op({ kind: 'waitHealthy', step: s0, pool: n, version, count: started });
  approval(b, input);
  let oldNow = input.activeInstances;

  for (const w of o.steps) {
    if (w === 100) break;
    if (!hasLive) {
      b.skipped(`weight-${w}`, `Traffic ${w}%`, 'nothing live to compare against');
      continue;
    }
    const s = b.step(`weight-${w}`, `Traffic ${w}%`);
    if (input.weightsByInstances) {
      // Whole instances decide the split: the canary grows, then the old colour gives way.
      const want = instancesForWeight(w, replicas);
      if (want.canary > started) {
        b.op({ kind: 'start', step: s, pool: n, version, count: want.canary - started, total: want.canary });
        started = want.canary;
        b.op({ kind: 'waitHealthy', step: s, pool: n, version, count: started });
      }
      // The old colour gives way before the split is applied, so the split recorded is what serves.
      if (want.old < oldNow) {
        b.op({ kind: 'stop', step: s, pool: old, count: oldNow - want.old, total: want.old });
        oldNow = want.old;
      }
      b.op({ kind: 'traffic', step: s, weights: weights(n, w), activeColor: input.activeColor });
    } else {
      b.op({ kind: 'traffic', step: s, weights: weights(n, w), activeColor: input.activeColor });
    }
    if (o.stepDurationSeconds === 'manual') {
      b.op({ kind: 'wait', step: s, for: 'advance' });
      if (o.analysis.enabled) b.op({ kind: 'analysis', step: s, pool: n, holdMs: 0, baseline: old });
    } else if (o.analysis.enabled) {
      const holdMs = o.stepDurationSeconds * 1000;
      b.op({ kind: 'analysis', step: s, pool: n, holdMs, advanceable: true, baseline: old });
    } else {
      b.op({ kind: 'hold', step: s, ms: o.stepDurationSeconds * 1000, advanceable: true });
    }
  }

  const f = b.step('weight-100', `Promote: ${replicas} × ${version} at 100%`);
  if (started < replicas) {
    b.op({ kind: 'start', step: f, pool: n, version, count: replicas - started, total: replicas });
  }
  b.op({ kind: 'waitHealthy', step: f, pool: n, version, count: replicas });
  b.op({ kind: 'traffic', step: f, weights: weights(n, 100), activeColor: n });
  if (hasLive) {
    const s = b.step('stop-old', `Stop ${input.fromVersion} on ${old}`);
    b.op({ kind: 'stop', step: s, pool: old, count: 'all', total: 0 });
    b.op({ kind: 'succeed', step: s });
  } else {
    b.op({ kind: 'succeed', step: f });
  }
  return b.build();
}

/**
 * A scale of the live release in its pool. Up: start the missing instances, wait until all are
 * healthy (they join the pool's routing as they pass); down: take the surplus out of the routing,
 * let it drain, stop it. The pool's weight never changes.
 */
export function scaleProgram(input: NormalizedInput): Program {
  const b = new Builder();
  const scale = input.scale;
  if (!scale) throw new RangeError('not a scale');
  const { pool, from, to } = scale;
  const { version } = input;
  if (scale.drain && scale.drain.count > 0) {
    // Replacements first (placement never picks a draining host), all serving; then the surplus
    // goes, the instances on the draining host first (the executor's stop order).
    const { host, count } = scale.drain;
    const s = b.step('replace', `Start ${count} × ${version} on ${pool} away from ${host}`);
    b.op({ kind: 'start', step: s, pool, version, count, total: to + count });
    b.op({ kind: 'waitHealthy', step: s, pool, version, count: to + count });
    const d = b.step('drain', `Drain and stop ${count} on ${host}`);
    b.op({ kind: 'stop', step: d, pool, count, total: to });
    b.op({ kind: 'succeed', step: d });
  } else if (to > from) {
    const s = b.step('scale-up', `Start ${to - from} × ${version} on ${pool}`);
    b.op({ kind: 'start', step: s, pool, version, count: to - from, total: to });
    const h = b.step('health', `Health check, then serve (${to} instances)`);
    b.op({ kind: 'waitHealthy', step: h, pool, version, count: to });
    b.op({ kind: 'succeed', step: h });
  } else if (to < from) {
    const s = b.step('scale-down', `Drain and stop ${from - to} of ${from} on ${pool}`);
    b.op({ kind: 'stop', step: s, pool, count: from - to, total: to });
    b.op({ kind: 'succeed', step: s });
  } else {
    const s = b.step('scale', `Check ${to} × ${version} on ${pool}`);
    b.op({ kind: 'waitHealthy', step: s, pool, version, count: to });
    b.op({ kind: 'succeed', step: s });
  }
  return b.build();
}

function strategyProgram(strategy: StrategyName, input: NormalizedInput, options: StrategyOptions): Program {
  switch (strategy) {
    case 'blue-green':
      return blueGreen(input, options as BlueGreenOptions);
    case 'rolling':
      return rolling(input, options as RollingOptions);
    case 'canary':
      return canary(input, options as CanaryOptions);
  }
}

/**
 * Wraps a strategy's program with the environment's hooks: a `pre-hook` step before the first
 * step (nothing has started, no traffic has moved), and a `post-hook` step right after the step in
 * which the deployment succeeds — traffic has moved; the deployment succeeds only once the hook
 * passed, so a failing post-hook rolls back. Housekeeping (scale-down) comes after it.
 */
export function withHooks(program: Program, hooks: DeploymentInput['hooks']): Program {
  const pre = hooks?.pre ?? null;
  const post = hooks?.post ?? null;
  if (!pre && !post) return program;
  const step = (key: string, name: string): DeploymentStep => ({
    key,
    name,
    status: 'pending',
    startedAt: null,
    finishedAt: null,
    message: null,
  });
  let steps = [...program.steps];
  let ops = [...program.ops];
  if (post) {
    const at = ops.findIndex((o) => o.kind === 'succeed');
    if (at >= 0) {
      const succeedStep = (ops[at] as Op).step;
      const hookStep = succeedStep + 1;
      steps.splice(hookStep, 0, step('post-hook', `Post-deployment hook: ${post.job}`));
      ops = ops.map((o) => (o.step >= hookStep ? { ...o, step: o.step + 1 } : o));
      ops.splice(
        at,
        1,
        { kind: 'hook', step: hookStep, phase: 'post', job: post.job, timeoutMs: post.timeoutMs },
        { kind: 'succeed', step: hookStep },
      );
    }
  }
  if (pre) {
    steps = [step('pre-hook', `Pre-deployment hook: ${pre.job}`), ...steps];
    ops = [
      { kind: 'hook', step: 0, phase: 'pre', job: pre.job, timeoutMs: pre.timeoutMs },
      ...ops.map((o) => ({ ...o, step: o.step + 1 })),
    ];
  }
  return { steps, ops };
}

export function compileProgram(
  strategy: StrategyName,
  input: NormalizedInput,
  options: StrategyOptions,
  hooks?: DeploymentInput['hooks'],
): Program {
  // A scale runs no hooks: it changes how many instances serve, not what they run.
  if (input.scale) return scaleProgram(input);
  return withHooks(strategyProgram(strategy, input, options), hooks);
}
