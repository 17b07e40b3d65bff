// The API views of an autoscaling policy and of one decision (REST answers and the
// `autoscale.decision` event's payload).
import type { AutoscalePolicy, ScalingDecision } from '@qubot/api-contract';
import type { AutoscalePolicyRow, ScalingDecisionRow } from '@qubot/db';

export function policyView(p: AutoscalePolicyRow): AutoscalePolicy {
  return {
    enabled: p.enabled,
    minReplicas: p.minReplicas,
    maxReplicas: p.maxReplicas,
    metric: p.metric === 'cpu' ? 'cpu' : 'rps',
    target: p.target,
    cooldownSeconds: p.cooldownSeconds,
    lastScaleAt: p.lastScaleAt?.toISOString() ?? null,
    updatedBy: p.updatedBy,
    updatedAt: p.updatedAt.toISOString(),
  };
}

export function decisionView(d: ScalingDecisionRow): ScalingDecision {
  return {
    id: d.id.toString(),
    at: d.at.toISOString(),
    action: d.action as ScalingDecision['action'],
    fromReplicas: d.fromReplicas,
    toReplicas: d.toReplicas,
    metric: d.metric === 'cpu' ? 'cpu' : 'rps',
    measured: d.measured,
    target: d.target,
    reason: d.reason,
    deploymentId: d.deploymentId,
  };
}
