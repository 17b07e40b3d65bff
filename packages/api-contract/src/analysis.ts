import Type from 'typebox';
import { ActionReason, NullableTimestamp, Reason, strict, Timestamp } from './common.ts';

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
        'why the figure cannot be measured here at all (e.g. the HAProxy traffic provider measures no latency, or the Prometheus the environment reads cannot be reached): the check stays inconclusive and cannot pass',
    }),
  ),
  source: Type.Optional(
    Type.Union([Type.Literal('router'), Type.Literal('prometheus')], {
      description:
        "where the traffic figures came from: the traffic provider's own window (router) or the environment's Prometheus query provider",
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

/** The placeholders a PromQL template may use (docs/monitoring.md "Prometheus as the analysis source"). */
export const PROMQL_PLACEHOLDERS = ['app', 'env', 'pool', 'version', 'window'] as const;

const SERIES = `job="qubot-runtime",application="{{app}}",environment="{{env}}",pool="{{pool}}"`;
/**
 * Templates for Qubot's own router metrics as a Prometheus scraping them through
 * /api/v1/prometheus/targets names them (docs/monitoring.md; the dashboard offers them).
 */
export const QUBOT_ROUTER_QUERIES = {
  requests: `sum(increase(qubot_router_requests_total{${SERIES}}[{{window}}]))`,
  errorRate: `(sum(increase(qubot_router_errors_total{${SERIES}}[{{window}}])) or vector(0)) / sum(increase(qubot_router_requests_total{${SERIES}}[{{window}}]))`,
  p95Seconds: `histogram_quantile(0.95, sum by (le) (rate(qubot_router_request_duration_seconds_bucket{${SERIES}}[{{window}}])))`,
};

const PromqlTemplate = (description: string) => Type.String({ minLength: 1, maxLength: 4000, description });

export const PrometheusQueries = Type.Object(
  {
    requests: PromqlTemplate(
      'PromQL giving the number of requests the pool served in the window (the sample size), e.g. sum(increase(…[{{window}}]))',
    ),
    errorRate: PromqlTemplate('PromQL giving the failed share of the pool’s requests in the window, 0..1'),
    p95Seconds: PromqlTemplate('PromQL giving the pool’s 95th percentile latency in the window, in seconds'),
  },
  {
    ...strict,
    description:
      'Templates with {{app}}, {{env}}, {{pool}} (blue | green; required in each), {{version}} (the release the pool runs) and {{window}} (a Prometheus duration such as 45s); each must give one number (a scalar or a one-series vector)',
  },
);
export type PrometheusQueries = Type.Static<typeof PrometheusQueries>;

export const PrometheusAnalysisSettings = Type.Object(
  {
    url: Type.String({
      minLength: 1,
      maxLength: 2000,
      description:
        'Base URL of the Prometheus HTTP API (http or https, no credentials), e.g. http://prometheus:9090',
    }),
    queries: PrometheusQueries,
    timeoutSeconds: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 30, description: 'per query; default 5' }),
    ),
  },
  strict,
);
export type PrometheusAnalysisSettings = Type.Static<typeof PrometheusAnalysisSettings>;

/** PUT /apps/:app/environments/:env/analysis-provider (admin). */
export const PutAnalysisProviderBody = Type.Object(
  {
    provider: Type.Union([Type.Literal('router'), Type.Literal('prometheus')], {
      description:
        "router: the traffic provider's own window (the default); prometheus: the PromQL templates below",
    }),
    prometheus: Type.Optional(PrometheusAnalysisSettings),
    reason: Type.Optional(ActionReason),
  },
  strict,
);
export type PutAnalysisProviderBody = Type.Static<typeof PutAnalysisProviderBody>;

export const AnalysisProviderView = Type.Object({
  provider: Type.Union([Type.Literal('router'), Type.Literal('prometheus')]),
  prometheus: Type.Union([
    Type.Object({ url: Type.String(), queries: PrometheusQueries, timeoutSeconds: Type.Integer() }),
    Type.Null(),
  ]),
  placeholders: Type.Array(Type.String()),
  updatedBy: Type.Union([Type.String(), Type.Null()]),
  updatedAt: NullableTimestamp,
});
export type AnalysisProviderView = Type.Static<typeof AnalysisProviderView>;
