// What the control plane's /metrics and the DORA figures read: the rollups kept by triggers
// (migration 20261203000000_metric_rollups) and small indexed state (environments, open
// deployments, live instances). Nothing here reads the deployment history, so a scrape costs the
// same with ten deployments or ten million (docs/monitoring.md, "Cost of a scrape").
import { type Db, readAll } from '../client.ts';

export interface EnvironmentRow {
  id: string;
  application: string;
  environment: string;
  position: number;
  routerStatus: string | null;
  routerRestarts: number;
  liveVersion: string | null;
  activeColor: string | null;
}
export interface DeploymentCountRow {
  environmentId: string;
  strategy: string;
  kind: string;
  result: string;
  count: number;
  durationSum: number;
  durationBuckets: number[];
}
export interface CounterRow {
  name: string;
  environmentId: string;
  label: string;
  count: number;
}
export interface OpenDeploymentRow {
  environmentId: string;
  status: string;
  waitingFor: string | null;
  count: number;
  /** Epoch ms of the oldest `waiting_since` in the group (null when not waiting). */
  oldestWaitingSince: number | null;
}
export interface InstanceCountRow {
  environmentId: string;
  status: string;
  count: number;
}
export interface DailyRow {
  environmentId: string;
  /** YYYY-MM-DD (UTC). */
  day: string;
  succeeded: number;
  failed: number;
  aborted: number;
  leadTimeSum: number;
  leadTimeCount: number;
  restoreSum: number;
  restoreCount: number;
}
export interface RouterTarget {
  application: string;
  environment: string;
  /** The router's control port (loopback), which serves its /metrics. */
  port: number;
}
export interface InstanceTarget {
  id: string;
  application: string;
  environment: string;
  pool: string;
  host: string;
  port: number;
  version: string;
  status: string;
}
export interface MetricSnapshot {
  environments: EnvironmentRow[];
  deployments: DeploymentCountRow[];
  counters: CounterRow[];
  open: OpenDeploymentRow[];
  instances: InstanceCountRow[];
  /** Epoch ms of the newest backup, and of the newest restore drill that passed. */
  lastBackupAt: number | null;
  lastVerifiedAt: number | null;
  /** pg-boss jobs waiting to be worked, per queue (empty before any process started the queue). */
  queue: { queue: string; depth: number }[];
  /** DORA rollup rows of the last `doraDays` days, every environment. */
  daily: DailyRow[];
}

const num = (v: unknown) => (typeof v === 'bigint' ? Number(v) : Number(v ?? 0));
const ms = (v: unknown) =>
  v instanceof Date ? v.getTime() : v == null ? null : new Date(String(v)).getTime();
const day = (v: unknown) => (v instanceof Date ? v.toISOString().slice(0, 10) : String(v).slice(0, 10));

function dailyRow(r: Record<string, unknown>): DailyRow {
  return {
    environmentId: String(r.environment_id),
    day: day(r.day),
    succeeded: num(r.succeeded),
    failed: num(r.failed),
    aborted: num(r.aborted),
    leadTimeSum: num(r.lead_time_sum),
    leadTimeCount: num(r.lead_time_count),
    restoreSum: num(r.restore_sum),
    restoreCount: num(r.restore_count),
  };
}

/** The DORA read of one application (docs/monitoring.md shows its plan): index (application_id, day). */
export const DORA_SQL = `SELECT environment_id, day, succeeded, failed, aborted, lead_time_sum, lead_time_count,
  restore_sum, restore_count FROM deployment_daily WHERE application_id = $1::uuid AND day >= $2::date
  ORDER BY environment_id, day`;

export function createMetricRepo(root: Db) {
  return {
    /** Everything one scrape of /metrics needs, in a few small queries. */
    async snapshot(doraDays: number, db: Db = root): Promise<MetricSnapshot> {
      const [envs, counts, counters, open, instances, backups, daily, queue] = await readAll(db, root, [
        () => db.$queryRaw<Record<string, unknown>[]>`
          SELECT e.id, a.name AS application, e.name AS environment, e.position, e.router_status,
                 e.router_restarts, r.version AS live_version, e.active_color::text AS active_color
          FROM environments e
          JOIN applications a ON a.id = e.application_id
          LEFT JOIN releases r ON r.id = e.live_release_id
          ORDER BY a.name, e.position`,
        () => db.$queryRaw<Record<string, unknown>[]>`
          SELECT environment_id, strategy::text AS strategy, kind::text AS kind, result, count,
                 duration_sum, duration_buckets
          FROM deployment_counts`,
        () =>
          db.$queryRaw<
            Record<string, unknown>[]
          >`SELECT name, environment_id, label, count FROM metric_counters`,
        // Repeats the open-work predicate, so the partial index deployments_open_work_idx serves it.
        () => db.$queryRaw<Record<string, unknown>[]>`
          SELECT environment_id, status::text AS status, waiting_for, count(*) AS count,
                 min(waiting_since) AS oldest
          FROM deployments
          WHERE status IN ('pending', 'running', 'paused')
          GROUP BY environment_id, status, waiting_for`,
        // Repeats the predicate of instances_live_idx (LIVE_INSTANCE_STATUSES).
        () => db.$queryRaw<Record<string, unknown>[]>`
          SELECT environment_id, status::text AS status, count(*) AS count
          FROM instances
          WHERE status IN ('starting', 'running', 'unhealthy', 'oom_killed', 'stopping')
          GROUP BY environment_id, status`,
        () => db.$queryRaw<Record<string, unknown>[]>`
          SELECT max(created_at) AS last_backup, max(verified_at) FILTER (WHERE verify_ok) AS last_verified
          FROM backups`,
        () => db.$queryRaw<Record<string, unknown>[]>`
          SELECT environment_id, day, succeeded, failed, aborted, lead_time_sum, lead_time_count,
                 restore_sum, restore_count
          FROM deployment_daily
          WHERE day > (now() AT TIME ZONE 'UTC')::date - ${doraDays}::int`,
        () => queueDepth(db),
      ]);
      return {
        environments: envs.map((r) => ({
          id: String(r.id),
          application: String(r.application),
          environment: String(r.environment),
          position: num(r.position),
          routerStatus: r.router_status == null ? null : String(r.router_status),
          routerRestarts: num(r.router_restarts),
          liveVersion: r.live_version == null ? null : String(r.live_version),
          activeColor: r.active_color == null ? null : String(r.active_color),
        })),
        deployments: counts.map((r) => ({
          environmentId: String(r.environment_id),
          strategy: String(r.strategy),
          kind: String(r.kind),
          result: String(r.result),
          count: num(r.count),
          durationSum: num(r.duration_sum),
          durationBuckets: Array.isArray(r.duration_buckets) ? r.duration_buckets.map(num) : [],
        })),
        counters: counters.map((r) => ({
          name: String(r.name),
          environmentId: String(r.environment_id),
          label: String(r.label),
          count: num(r.count),
        })),
        open: open.map((r) => ({
          environmentId: String(r.environment_id),
          status: String(r.status),
          waitingFor: r.waiting_for == null ? null : String(r.waiting_for),
          count: num(r.count),
          oldestWaitingSince: ms(r.oldest),
        })),
        instances: instances.map((r) => ({
          environmentId: String(r.environment_id),
          status: String(r.status),
          count: num(r.count),
        })),
        lastBackupAt: ms(backups[0]?.last_backup),
        lastVerifiedAt: ms(backups[0]?.last_verified),
        queue,
        daily: daily.map(dailyRow),
      };
    },

    /** DORA rollup rows of one application since `fromDay` (YYYY-MM-DD, UTC), oldest first. */
    async dora(applicationId: string, fromDay: string, db: Db = root): Promise<DailyRow[]> {
      const rows = await db.$queryRawUnsafe<Record<string, unknown>[]>(DORA_SQL, applicationId, fromDay);
      return rows.map(dailyRow);
    },

    /** Every metrics endpoint the control plane runs: each environment's router and live instance. */
    async targets(db: Db = root): Promise<{ routers: RouterTarget[]; instances: InstanceTarget[] }> {
      const [routers, instances] = await readAll(db, root, [
        () => db.$queryRaw<Record<string, unknown>[]>`
          SELECT a.name AS application, e.name AS environment, e.router_control_port AS port
          FROM environments e JOIN applications a ON a.id = e.application_id
          WHERE e.router_control_port IS NOT NULL
          ORDER BY a.name, e.position`,
        // Repeats the predicate of instances_live_idx (LIVE_INSTANCE_STATUSES).
        () => db.$queryRaw<Record<string, unknown>[]>`
          SELECT i.id, a.name AS application, e.name AS environment, i.pool::text AS pool, i.host, i.port,
                 r.version, i.status::text AS status
          FROM instances i
          JOIN environments e ON e.id = i.environment_id
          JOIN applications a ON a.id = e.application_id
          JOIN releases r ON r.id = i.release_id
          WHERE i.status IN ('starting', 'running', 'unhealthy', 'oom_killed', 'stopping')
          ORDER BY a.name, e.position, i.pool, i.port`,
      ]);
      return {
        routers: routers.map((r) => ({
          application: String(r.application),
          environment: String(r.environment),
          port: num(r.port),
        })),
        instances: instances.map((r) => ({
          id: String(r.id),
          application: String(r.application),
          environment: String(r.environment),
          pool: String(r.pool),
          host: String(r.host),
          port: num(r.port),
          version: String(r.version),
          status: String(r.status),
        })),
      };
    },

    /** An application's environments in pipeline order (id, name, position). */
    async environmentsOf(applicationId: string, db: Db = root) {
      return db.environment.findMany({
        where: { applicationId },
        orderBy: { position: 'asc' },
        select: { id: true, name: true, position: true },
      });
    },

    /** A worker lost a deployment's lease (its connection died while driving it). */
    async countLeaseLoss(deploymentId: string, db: Db = root): Promise<void> {
      await db.$executeRaw`
        SELECT qubot_count('lease_loss', environment_id, '', 1) FROM deployments WHERE id = ${deploymentId}::uuid`;
    },
  };
}
export type MetricRepo = ReturnType<typeof createMetricRepo>;

/** pg-boss's waiting jobs (`state < 'active'`: its own partial index covers that predicate). */
async function queueDepth(db: Db): Promise<{ queue: string; depth: number }[]> {
  const [exists] = await db.$queryRaw<{ ok: boolean }[]>`SELECT to_regclass('pgboss.job') IS NOT NULL AS ok`;
  if (!exists?.ok) return [];
  const rows = await db.$queryRaw<{ name: string; depth: bigint }[]>`
    SELECT name, count(*) AS depth FROM pgboss.job WHERE state < 'active' GROUP BY name`;
  return rows.map((r) => ({ queue: r.name, depth: Number(r.depth) }));
}
