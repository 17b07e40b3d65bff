import type { AutoscalePolicy, AutoscalePolicyBody, ScalingDecision } from '@qubot/api-contract';

/** The policy form's values, from the saved policy or the defaults for a new one. */
export function policyDraft(
  p: AutoscalePolicy | null,
  replicas: number,
): Omit<AutoscalePolicyBody, 'reason'> {
  if (p) {
    return {
      enabled: p.enabled,
      minReplicas: p.minReplicas,
      maxReplicas: p.maxReplicas,
      metric: p.metric,
      target: p.target,
      cooldownSeconds: p.cooldownSeconds,
    };
  }
  return {
    enabled: true,
    minReplicas: Math.min(replicas, 1),
    maxReplicas: Math.max(replicas, 4),
    metric: 'rps',
    target: 50,
    cooldownSeconds: 60,
  };
}

/** What is wrong with the form, naming the field, before the server is asked (it checks again). */
export function policyProblem(d: Omit<AutoscalePolicyBody, 'reason'>): string | null {
  if (!Number.isInteger(d.minReplicas) || d.minReplicas < 1 || d.minReplicas > 20)
    return 'Min replicas must be a whole number from 1 to 20';
  if (!Number.isInteger(d.maxReplicas) || d.maxReplicas < 1 || d.maxReplicas > 20)
    return 'Max replicas must be a whole number from 1 to 20';
  if (d.minReplicas > d.maxReplicas) return 'Min replicas must not exceed max replicas';
  if (!(d.target > 0)) return 'Target must be above 0';
  if (d.metric === 'cpu' && d.target > 100) return 'A CPU target is a percent of one core: at most 100';
  if (!Number.isInteger(d.cooldownSeconds) || d.cooldownSeconds < 0)
    return 'Cooldown must be whole seconds, 0 or more';
  return null;
}

const ACTION_LABEL: Record<ScalingDecision['action'], string> = {
  scale_up: 'scaled up',
  scale_down: 'scaled down',
  none: 'no change',
  blocked: 'blocked',
};

/** One line per decision: "scaled up 2 → 4", "no change (2)". */
export function decisionSummary(d: ScalingDecision): string {
  const label = ACTION_LABEL[d.action];
  if (d.action === 'none') return `${label} (${d.fromReplicas})`;
  return `${label} ${d.fromReplicas} → ${d.toReplicas}`;
}

export function measuredLabel(d: Pick<ScalingDecision, 'metric' | 'measured' | 'target'>): string {
  const unit = d.metric === 'rps' ? 'req/s' : '% CPU';
  const m = d.measured === null ? '—' : `${Math.round(d.measured * 10) / 10}`;
  return `${m} / ${d.target} ${unit} per instance`;
}
