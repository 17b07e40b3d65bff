// The autoscaler's decision (docs/scaling.md "Autoscaling"): pure — the figures, the clock and
// what blocks a scale are passed in. The rule is the Kubernetes HPA's: desired = ceil(serving ×
// measured / target), within [min, max], no change inside a ±10 % tolerance, and no scale while
// the cooldown after the last one runs.

export type AutoscaleMetric = 'rps' | 'cpu';

export interface AutoscalePolicyInput {
  minReplicas: number;
  maxReplicas: number;
  metric: AutoscaleMetric;
  /** Per instance: requests per second, or CPU percent of one core. */
  target: number;
  cooldownSeconds: number;
  /** Epoch ms of the last scale the autoscaler started, or null. */
  lastScaleAt: number | null;
}

export interface AutoscaleInput {
  policy: AutoscalePolicyInput;
  /** The environment's replica count now. */
  replicas: number;
  /** Healthy instances serving in the live pool now (what the figure is spread over). */
  serving: number;
  /** The figure per instance, or null when it could not be measured (first reading, no router). */
  measured: number | null;
  /** Why nothing could be measured, when `measured` is null. */
  unmeasured?: string;
  /** Why no scale can start now (a deployment in progress, nothing live), or null. */
  busy: string | null;
  now: number;
}

export type AutoscaleAction = 'scale_up' | 'scale_down' | 'none' | 'blocked';

export interface AutoscaleDecision {
  action: AutoscaleAction;
  from: number;
  to: number;
  reason: string;
  /**
   * What kind of "no change" this is: a decision with the same key as the last one recorded need
   * not be recorded again soon (the record stays readable, not one row per round).
   */
  key: string;
}

export const AUTOSCALE_TOLERANCE = 0.1;

const unit = (m: AutoscaleMetric) => (m === 'rps' ? 'req/s' : '% CPU');
const fmt = (n: number) => (Math.round(n * 10) / 10).toString();

export function decideScale(input: AutoscaleInput): AutoscaleDecision {
  const { policy: p, replicas, now } = input;
  const clamp = (n: number) => Math.min(p.maxReplicas, Math.max(p.minReplicas, n));
  const none = (key: string, reason: string): AutoscaleDecision => ({
    action: 'none',
    from: replicas,
    to: replicas,
    reason,
    key,
  });
  let desired: number;
  let why: string;
  if (replicas < p.minReplicas || replicas > p.maxReplicas) {
    desired = clamp(replicas);
    why = `${replicas} is outside the policy's ${p.minReplicas}–${p.maxReplicas}`;
  } else if (input.measured === null) {
    return none('unmeasured', `nothing measured yet${input.unmeasured ? ` (${input.unmeasured})` : ''}`);
  } else {
    const m = input.measured;
    const ratio = m / p.target;
    const figure = `${fmt(m)} ${unit(p.metric)} per instance (target ${fmt(p.target)})`;
    if (Math.abs(ratio - 1) <= AUTOSCALE_TOLERANCE)
      return none('steady', `${figure}: within 10 % of the target`);
    const raw = Math.ceil(Math.max(1, input.serving) * ratio - 1e-9);
    desired = clamp(raw);
    if (desired === replicas) {
      const edge =
        raw > p.maxReplicas ? 'at the maximum' : raw < p.minReplicas ? 'at the minimum' : 'unchanged';
      return none(`edge:${edge}`, `${figure}: wants ${raw}, ${edge} (${replicas})`);
    }
    why = `${figure}: wants ${raw}`;
  }
  if (p.lastScaleAt !== null && now < p.lastScaleAt + p.cooldownSeconds * 1000) {
    const until = new Date(p.lastScaleAt + p.cooldownSeconds * 1000).toISOString();
    return none('cooldown', `${why}; cooling down until ${until}`);
  }
  if (input.busy) {
    return {
      action: 'blocked',
      from: replicas,
      to: desired,
      reason: `${why}; ${input.busy}`,
      key: 'blocked',
    };
  }
  return {
    action: desired > replicas ? 'scale_up' : 'scale_down',
    from: replicas,
    to: desired,
    reason: `${why} → ${desired}`,
    key: desired > replicas ? 'up' : 'down',
  };
}
