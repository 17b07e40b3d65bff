import Type from 'typebox';
import { Name, strict, Timestamp } from './common.ts';
import { Color } from './resources.ts';

/**
 * What the dashboard watches besides stored events (docs/dashboard.md, docs/events.md):
 * router figures sampled every few seconds, instance logs, and a deployment's ETA and log.
 */

/** One pool's figures over one sampling interval, from the environment's traffic router. */
export const PoolSample = Type.Object({
  pool: Type.String(),
  version: Type.Union([Type.String(), Type.Null()]),
  /** Requests answered during the interval, and how many of them failed (5xx or no answer). */
  requests: Type.Integer({ minimum: 0 }),
  errors: Type.Integer({ minimum: 0 }),
  /** 95th percentile latency over the interval, null without requests. */
  p95Ms: Type.Union([Type.Number(), Type.Null()]),
  inFlight: Type.Integer({ minimum: 0 }),
});
export type PoolSample = Type.Static<typeof PoolSample>;

export const MetricsSample = Type.Object({
  /** End of the interval. */
  at: Timestamp,
  /** Length of the interval: rates are `requests / (intervalMs / 1000)`. */
  intervalMs: Type.Integer({ minimum: 1 }),
  pools: Type.Array(PoolSample),
});
export type MetricsSample = Type.Static<typeof MetricsSample>;

export const MetricsQuery = Type.Object(
  {
    /** How far back the history goes (the process keeps ten minutes). */
    windowSeconds: Type.Optional(Type.Integer({ minimum: 10, maximum: 600, default: 300 })),
  },
  strict,
);
export type MetricsQuery = Type.Static<typeof MetricsQuery>;

/** One upstream as a traffic provider that checks its targets itself (HAProxy) sees it. */
export const TrafficTarget = Type.Object({
  pool: Type.String(),
  target: Type.String({ description: '`host:port` of an instance, as in the routing table' }),
  state: Type.Union([Type.Literal('ready'), Type.Literal('drain'), Type.Literal('maint')], {
    description: 'ready: takes traffic by weight; drain: finishing in-flight requests; maint: out',
  }),
  up: Type.Boolean({ description: "the provider's own health check passes" }),
  check: Type.String({ description: "the provider's last check result, e.g. L7OK, L4CON" }),
});
export type TrafficTarget = Type.Static<typeof TrafficTarget>;

export const TrafficProviderStatus = Type.Object({
  environment: Type.String({ description: '<app>/<env>' }),
  kind: Type.Union([Type.Literal('node'), Type.Literal('haproxy'), Type.Literal('kubernetes')], {
    description: 'kubernetes: the environment runs on a cluster, whose Services and HTTPRoute route it',
  }),
  address: Type.Union([Type.String(), Type.Null()]),
  capabilities: Type.Object({
    survivesControlPlaneRestart: Type.Boolean(),
    checksTargets: Type.Boolean({ description: 'the provider health-checks its targets itself (`targets`)' }),
    windowStats: Type.Boolean({
      description:
        'the provider measures per-pool figures over a window with latency percentiles; without it (HAProxy) requests and errors come from its counters and no latency is measured: an analysis latency threshold cannot pass',
    }),
  }),
  health: Type.Union(
    [
      Type.Object({
        ok: Type.Boolean(),
        pid: Type.Integer(),
        revision: Type.Integer({ description: 'revision of the routing table in force' }),
        targets: Type.Union([Type.Array(TrafficTarget), Type.Null()], {
          description: 'per target, when `capabilities.checksTargets`; null otherwise',
        }),
      }),
      Type.Null(),
    ],
    { description: 'null when there is no router yet or it did not answer (`error`)' },
  ),
  error: Type.Union([Type.String(), Type.Null()]),
});
export type TrafficProviderStatus = Type.Static<typeof TrafficProviderStatus>;

export const EnvironmentMetrics = Type.Object({
  environment: Type.String({ description: '<app>/<env>' }),
  /** How often the router is sampled. */
  intervalMs: Type.Integer(),
  /** Oldest first. */
  samples: Type.Array(MetricsSample),
});
export type EnvironmentMetrics = Type.Static<typeof EnvironmentMetrics>;

/**
 * Server → client on the event stream, to sockets subscribed to the environment's topic (and to
 * the active deployment's topic). A sample, not a stored event: it has no `seq`, is not replayed,
 * and a slow client may miss some.
 */
export const MetricsMessage = Type.Object({
  type: Type.Literal('metrics'),
  environmentId: Type.String(),
  /** `<app>/<env>` */
  environment: Type.String(),
  sample: MetricsSample,
  /** The active deployment's requests served/failed so far (its `traffic`, live), or null. */
  deployment: Type.Union([
    Type.Object({
      id: Type.String(),
      traffic: Type.Object({ requests: Type.Integer(), failed: Type.Integer() }),
    }),
    Type.Null(),
  ]),
});
export type MetricsMessage = Type.Static<typeof MetricsMessage>;

export const InstanceLogParams = Type.Object(
  {
    app: Name,
    env: Name,
    /** Instance ids are labels, e.g. `staging-green-1a2b3c4d`. */
    id: Type.String({ minLength: 1, maxLength: 100, pattern: '^[A-Za-z0-9][A-Za-z0-9._+-]*$' }),
  },
  strict,
);
export const InstanceLogQuery = Type.Object(
  {
    lines: Type.Optional(Type.Integer({ minimum: 1, maximum: 2000, default: 200 })),
    /** Keep the response open and stream new lines as NDJSON (`application/x-ndjson`). */
    follow: Type.Optional(Type.Boolean({ default: false })),
  },
  strict,
);
export type InstanceLogQuery = Type.Static<typeof InstanceLogQuery>;
export const InstanceLog = Type.Object({
  instanceId: Type.String(),
  pool: Color,
  version: Type.String(),
  /** The last lines of the instance's stdout/stderr, oldest first. */
  lines: Type.Array(Type.String()),
});
export type InstanceLog = Type.Static<typeof InstanceLog>;
/** One line of a followed log stream (`?follow=true`): `{"lines":[…]}` per chunk. */
export type InstanceLogChunk = { lines: string[] };

export const DeploymentEta = Type.Object({
  /** 90th percentile of the durations of earlier succeeded deployments like this one. */
  p90Seconds: Type.Number(),
  /** How many such deployments (at least 3; otherwise `eta` is null). */
  samples: Type.Integer(),
  /** Start (or creation, before it started) + p90. */
  expectedFinishAt: Timestamp,
});
export type DeploymentEta = Type.Static<typeof DeploymentEta>;
export const DeploymentEtaResponse = Type.Object({
  deploymentId: Type.String(),
  eta: Type.Union([DeploymentEta, Type.Null()]),
});
export type DeploymentEtaResponse = Type.Static<typeof DeploymentEtaResponse>;

export const DeploymentLogEntry = Type.Object({
  seq: Type.Integer(),
  at: Timestamp,
  /** The stored event it comes from, e.g. `deployment.updated`. */
  event: Type.String(),
  level: Type.Union([Type.Literal('info'), Type.Literal('warn'), Type.Literal('error')]),
  message: Type.String(),
});
export type DeploymentLogEntry = Type.Static<typeof DeploymentLogEntry>;
