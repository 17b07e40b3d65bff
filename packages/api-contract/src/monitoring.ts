import Type from 'typebox';
import { Timestamp } from './common.ts';

/**
 * Monitoring (docs/monitoring.md): Prometheus service discovery and the DORA figures.
 */

/** One group of Prometheus `http_sd_config` (a bare array of these is the answer). */
export const PrometheusTargetGroup = Type.Object({
  /** `host:port` of each metrics endpoint. */
  targets: Type.Array(Type.String()),
  /**
   * `application`, `environment`, `pool` and `version` (instances), `qubot_component`
   * (`router` | `instance`), and `__metrics_path__`.
   */
  labels: Type.Record(Type.String(), Type.String()),
});
export type PrometheusTargetGroup = Type.Static<typeof PrometheusTargetGroup>;
export const PrometheusTargets = Type.Array(PrometheusTargetGroup);
export type PrometheusTargets = Type.Static<typeof PrometheusTargets>;

const Seconds = Type.Union([Type.Number(), Type.Null()]);
export const DoraFigures = Type.Object({
  /** Successful deployments in the window. */
  deployments: Type.Integer({ minimum: 0 }),
  deploymentsPerDay: Type.Number(),
  /** Failed or rolled-back deployments in the window. */
  failures: Type.Integer({ minimum: 0 }),
  /** failures / (successes + failures); null when nothing finished. Aborted ones do not count. */
  changeFailureRate: Type.Union([Type.Number(), Type.Null()]),
  /** Mean seconds from the release's creation to its success in this environment. */
  leadTimeSeconds: Seconds,
  /** Mean seconds from a failed or rolled-back deployment to the next success. */
  timeToRestoreSeconds: Seconds,
});
export type DoraFigures = Type.Static<typeof DoraFigures>;

export const DoraWindowFigures = Type.Object({
  days: Type.Union([Type.Literal(7), Type.Literal(30), Type.Literal(90)]),
  current: DoraFigures,
  /** The window before, for the trend. */
  previous: DoraFigures,
});
export type DoraWindowFigures = Type.Static<typeof DoraWindowFigures>;

export const DoraDay = Type.Object({
  day: Type.String({ format: 'date', description: 'UTC day' }),
  succeeded: Type.Integer({ minimum: 0 }),
  failed: Type.Integer({ minimum: 0 }),
  leadTimeSeconds: Seconds,
});
export type DoraDay = Type.Static<typeof DoraDay>;

export const DoraEnvironment = Type.Object({
  environment: Type.String(),
  position: Type.Integer(),
  windows: Type.Array(DoraWindowFigures),
  /** One point per UTC day of the last 90 days, oldest first. */
  daily: Type.Array(DoraDay),
});
export type DoraEnvironment = Type.Static<typeof DoraEnvironment>;

export const DoraReport = Type.Object({
  application: Type.String(),
  /** When the figures were computed; windows end on this UTC day (included). */
  at: Timestamp,
  /** In pipeline order. */
  environments: Type.Array(DoraEnvironment),
});
export type DoraReport = Type.Static<typeof DoraReport>;
