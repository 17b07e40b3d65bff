// Live scaling and autoscaling (docs/scaling.md): a new replica count carried out now as a
// `scale` deployment, the per-environment autoscaling policy, and the record of its decisions.
import Type from 'typebox';
import { Replicas } from './applications-admin.ts';
import { ActionReason, ListOf, strict, Timestamp } from './common.ts';
import { Deployment } from './resources.ts';

export const ScaleBody = Type.Object({ replicas: Replicas, reason: Type.Optional(ActionReason) }, strict);
export type ScaleBody = Type.Static<typeof ScaleBody>;

export const ScaleResult = Type.Object({
  replicas: Type.Integer({ description: 'The new replica count of the environment' }),
  deployment: Type.Union([Deployment, Type.Null()], {
    description:
      'The `scale` deployment carrying the change out now (null when nothing is live: the next deployment starts with the new count)',
  }),
});
export type ScaleResult = Type.Static<typeof ScaleResult>;

export const AutoscaleMetric = Type.Union([Type.Literal('rps'), Type.Literal('cpu')], {
  description:
    'rps: requests per second per instance, measured by the traffic provider on the live pool; cpu: CPU % of one core per instance, read from /proc',
});
export type AutoscaleMetric = Type.Static<typeof AutoscaleMetric>;

export const AutoscalePolicyBody = Type.Object(
  {
    enabled: Type.Boolean(),
    minReplicas: Replicas,
    maxReplicas: Replicas,
    metric: AutoscaleMetric,
    target: Type.Number({
      exclusiveMinimum: 0,
      maximum: 100_000,
      description: 'Target per instance: requests per second (rps) or CPU percent (cpu, at most 100)',
    }),
    cooldownSeconds: Type.Integer({
      minimum: 0,
      maximum: 86_400,
      description: 'Seconds after a scale before the autoscaler scales again',
    }),
    reason: Type.Optional(ActionReason),
  },
  strict,
);
export type AutoscalePolicyBody = Type.Static<typeof AutoscalePolicyBody>;

export const AutoscalePolicy = Type.Object({
  enabled: Type.Boolean(),
  minReplicas: Type.Integer(),
  maxReplicas: Type.Integer(),
  metric: AutoscaleMetric,
  target: Type.Number(),
  cooldownSeconds: Type.Integer(),
  lastScaleAt: Type.Union([Timestamp, Type.Null()]),
  updatedBy: Type.String(),
  updatedAt: Timestamp,
});
export type AutoscalePolicy = Type.Static<typeof AutoscalePolicy>;

export const AutoscalePolicyResult = Type.Object({ policy: Type.Union([AutoscalePolicy, Type.Null()]) });
export type AutoscalePolicyResult = Type.Static<typeof AutoscalePolicyResult>;

export const ScalingDecisionAction = Type.Union(
  [Type.Literal('scale_up'), Type.Literal('scale_down'), Type.Literal('none'), Type.Literal('blocked')],
  { description: 'blocked: a scale was wanted but could not start now (a deployment in progress, …)' },
);

export const ScalingDecision = Type.Object({
  id: Type.String(),
  at: Timestamp,
  action: ScalingDecisionAction,
  fromReplicas: Type.Integer(),
  toReplicas: Type.Integer(),
  metric: AutoscaleMetric,
  measured: Type.Union([Type.Number(), Type.Null()], { description: 'The figure per instance' }),
  target: Type.Number(),
  reason: Type.String(),
  deploymentId: Type.Union([Type.String(), Type.Null()]),
});
export type ScalingDecision = Type.Static<typeof ScalingDecision>;

export const ScalingDecisionList = ListOf(ScalingDecision);
export type ScalingDecisionList = Type.Static<typeof ScalingDecisionList>;
