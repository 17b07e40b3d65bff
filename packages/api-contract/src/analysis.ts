import Type from 'typebox';
import { Reason, strict, Timestamp } from './common.ts';

/**
 * A canary's (or a verification's) analysis: each measurement gives every check a verdict.
 * `inconclusive` means fewer samples than the check's minimum: it neither passes nor fails, and
 * the step holds (docs/deployments.md "Analysis").
 */
export const AnalysisVerdict = Type.Union([
  Type.Literal('passed'),
  Type.Literal('failed'),
  Type.Literal('inconclusive'),
]);
export type AnalysisVerdict = Type.Static<typeof AnalysisVerdict>;

export const AnalysisMetric = Type.Union(
  [Type.Literal('health'), Type.Literal('minRequests'), Type.Literal('errorRate'), Type.Literal('p95Ms')],
  {
    description:
      'health: healthy instances of the new pool; minRequests: requests measured (the sample size); errorRate: failed/requests (0..1); p95Ms: 95th percentile latency',
  },
);
export type AnalysisMetric = Type.Static<typeof AnalysisMetric>;

export const AnalysisResult = Type.Object({
  /** Key of the step, e.g. `weight-25`. */
  step: Type.String(),
  pool: Type.Union([Type.Literal('blue'), Type.Literal('green')]),
  metric: AnalysisMetric,
  value: Type.Union([Type.Number(), Type.Null()], {
    description: 'measured on the new pool since the step moved traffic; null when nothing was measured',
  }),
  threshold: Type.Number(),
  bound: Type.Union([Type.Literal('max'), Type.Literal('min')], {
    description: 'max: value must be <= threshold; min: value must be >= threshold',
  }),
  verdict: AnalysisVerdict,
  passed: Type.Boolean({ description: "verdict === 'passed'" }),
  samples: Type.Integer({ description: 'requests measured (instances for health)' }),
  minSamples: Type.Integer({ description: 'the minimum sample size below which the check is inconclusive' }),
  baseline: Type.Union([Type.Number(), Type.Null()], {
    description: 'the same figure on the stable pool over the same window (null: not measured)',
  }),
  at: Timestamp,
  /** Measurement window, epoch ms. */
  since: Type.Number(),
  until: Type.Number(),
  unavailable: Type.Optional(
    Type.String({
      description:
        'why the figure cannot be measured here at all (e.g. the HAProxy traffic provider measures no latency): the check stays inconclusive and cannot pass',
    }),
  ),
});
export type AnalysisResult = Type.Static<typeof AnalysisResult>;

/** PUT /apps/:app/environments/:env/synthetic-load (demo environments). */
export const SyntheticLoadBody = Type.Object(
  {
    enabled: Type.Boolean(),
    reason: Type.Optional(Reason),
  },
  strict,
);
export type SyntheticLoadBody = Type.Static<typeof SyntheticLoadBody>;
