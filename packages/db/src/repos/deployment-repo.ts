import { type Db, readAll } from '../client.ts';
import { afterCursorSql, page } from '../cursor.ts';
import { type DeploymentStatus, Prisma, type Strategy } from '../generated/client.ts';
import { queryRows, type RawQueryable } from './raw-rows.ts';

export type { RawQueryable } from './raw-rows.ts';

const deploymentView = {
  application: { select: { name: true } },
  environment: { select: { name: true } },
  release: { select: { version: true, artifact: true } },
  fromRelease: { select: { version: true } },
  configVersion: { select: { version: true } },
  steps: { orderBy: { position: 'asc' as const } },
};

export interface DeploymentFilter {
  applicationId?: string | undefined;
  environmentId?: string | undefined;
  /** By name, resolved inside the page's statement (no lookup round trip). */
  applicationName?: string | undefined;
  /** Needs applicationName: environment names are per application. */
  environmentName?: string | undefined;
  status?: DeploymentStatus | undefined;
}

/**
 * A row of list()'s statement in the shape the view reads (deploymentView): the statement names its
 * columns as Prisma does, so only the relations are nested here, in one object of a fixed shape.
 */
// Timestamps the view only writes out (every one but the cursor's createdAt) come as the text
// Date#toISOString would make of them: parsing ~300 dates per page into Date objects to format
// them again cost more than the page's statement (bench/README.md "History at scale"). The
// columns are timestamptz(3), so the milliseconds are exact.
const iso = (col: string) => `to_char(${col} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

function toViewRow(r: Record<string, unknown>): DeploymentViewRow {
  return {
    id: r.id,
    kind: r.kind,
    strategy: r.strategy,
    status: r.status,
    waitingFor: r.waitingFor,
    state: r.state,
    options: r.options,
    progress: r.progress,
    analysis: r.analysis,
    requestsServed: r.requestsServed,
    requestsFailed: r.requestsFailed,
    reason: r.reason,
    actor: r.actor,
    error: r.error,
    createdAt: r.createdAt,
    startedAt: r.startedAt,
    finishedAt: r.finishedAt,
    application: { name: r._application },
    environment: { name: r._environment },
    release: { version: r._version, artifact: r._artifact },
    fromRelease: r._fromVersion === null ? null : { version: r._fromVersion },
    configVersion: r._configVersion === null ? null : { version: r._configVersion },
    steps: r._steps,
  } as DeploymentViewRow;
}

/**
 * The statement of one keyset page of history, newest first: the page comes from the index that
 * matches the filter (migration 20261202000500), its names, versions and steps are joined to just
 * those rows. Exported for bench/history-scale.ts, which EXPLAINs it.
 */
export function deploymentListStatement(
  filter: DeploymentFilter,
  opts: { cursor?: string | undefined; limit: number },
): Prisma.Sql {
  const where: Prisma.Sql[] = [];
  if (filter.applicationId) where.push(Prisma.sql`application_id = ${filter.applicationId}::uuid`);
  if (filter.environmentId) where.push(Prisma.sql`environment_id = ${filter.environmentId}::uuid`);
  if (filter.applicationName)
    where.push(
      Prisma.sql`application_id = (SELECT id FROM applications WHERE name = ${filter.applicationName})`,
    );
  if (filter.applicationName && filter.environmentName)
    where.push(
      Prisma.sql`environment_id = (SELECT e.id FROM environments e JOIN applications a ON a.id = e.application_id
                                    WHERE a.name = ${filter.applicationName} AND e.name = ${filter.environmentName})`,
    );
  if (filter.status) where.push(Prisma.sql`status = ${filter.status}::"DeploymentStatus"`);
  if (opts.cursor) where.push(afterCursorSql(opts.cursor));
  // Only the columns the view reads. The state (the machine, kilobytes of JSON per row) only where
  // it can still allow an action: a machine in a final status allows none (allowedActions), so
  // its row carries null, which the view reads as no actions, and is neither sent nor parsed.
  return Prisma.sql`
    SELECT d.id, d.kind, d.strategy, d.status, d.waiting_for AS "waitingFor",
           CASE WHEN d.state ->> 'status' IN ('succeeded', 'failed', 'rolled_back', 'aborted') THEN NULL
                ELSE d.state END AS state,
           d.options, d.progress, d.analysis, d.requests_served AS "requestsServed",
           d.requests_failed AS "requestsFailed", d.reason, d.actor, d.error, d.created_at AS "createdAt",
           ${Prisma.raw(iso('d.started_at'))} AS "startedAt", ${Prisma.raw(iso('d.finished_at'))} AS "finishedAt",
           a.name AS "_application", e.name AS "_environment", r.version AS "_version",
           r.artifact AS "_artifact", fr.version AS "_fromVersion", cv.version AS "_configVersion",
           (SELECT coalesce(json_agg(json_build_object(
                     'position', s.position, 'name', s.name, 'status', s.status, 'message', s.message,
                     'startedAt', ${Prisma.raw(iso('s.started_at'))}, 'finishedAt', ${Prisma.raw(iso('s.finished_at'))})
                   ORDER BY s.position), '[]'::json)
              FROM deployment_steps s WHERE s.deployment_id = d.id) AS "_steps"
      FROM (SELECT id, application_id, environment_id, release_id, from_release_id, config_version_id, kind,
                   strategy, status, waiting_for, state, options, progress, analysis, requests_served,
                   requests_failed, reason, actor, error, created_at, started_at, finished_at
              FROM deployments
             ${where.length ? Prisma.sql`WHERE ${Prisma.join(where, ' AND ')}` : Prisma.empty}
             ORDER BY created_at DESC, id DESC LIMIT ${opts.limit + 1}) d
      JOIN applications a ON a.id = d.application_id
      JOIN environments e ON e.id = d.environment_id
      JOIN releases r ON r.id = d.release_id
      LEFT JOIN releases fr ON fr.id = d.from_release_id
      LEFT JOIN config_versions cv ON cv.id = d.config_version_id
     ORDER BY d.created_at DESC, d.id DESC`;
}

export function createDeploymentRepo(root: Db, raw: { pool?: RawQueryable } = {}) {
  return {
    /**
     * One keyset page of history, newest first, in ONE statement: the page comes from the index
     * that matches the filter (migration 20261202000500), its names, versions and steps are joined
     * to just those rows. (Prisma's include would be six more round trips per page.) Rows have the
     * shape of findById's, so the API builds both with the same view function.
     */
    async list(
      filter: DeploymentFilter,
      opts: { cursor?: string | undefined; limit: number },
      db: Db = root,
    ) {
      const statement = deploymentListStatement(filter, opts);
      // The page is up to 201 wide rows: outside a transaction they come from the pg pool itself.
      const rows = await queryRows(statement, db, root, raw.pool);
      return page(rows.map(toViewRow), opts.limit);
    },
    findById(id: string, db: Db = root) {
      return db.deployment.findUnique({ where: { id }, include: deploymentView });
    },
    /** The deployment with its environment and application name: who may control it. */
    findWithScope(id: string, db: Db = root) {
      return db.deployment.findUnique({
        where: { id },
        include: { environment: true, application: { select: { name: true } } },
      });
    },
    /** What a redeploy repeats: release, strategy, options and configuration version. */
    findForRedeploy(id: string, db: Db = root) {
      return db.deployment.findUnique({
        where: { id },
        include: {
          environment: true,
          application: { select: { name: true } },
          release: { select: { version: true } },
          configVersion: { select: { version: true } },
        },
      });
    },
    /** The deployment with its application and environment rows (Prisma's not-found error when missing). */
    getWithTarget(id: string, db: Db = root) {
      return db.deployment.findUniqueOrThrow({
        where: { id },
        include: { application: true, environment: true },
      });
    },
    /** The deployment's id and its application (a subscribed topic). */
    findTopicRef(id: string, db: Db = root) {
      return db.deployment.findUnique({
        where: { id },
        select: { id: true, application: { select: { id: true, name: true } } },
      });
    },
    /** What the deployment's ETA and log are read from, and who may read them. */
    findSummary(id: string, db: Db = root) {
      return db.deployment.findUnique({
        where: { id },
        select: {
          id: true,
          environmentId: true,
          strategy: true,
          status: true,
          createdAt: true,
          startedAt: true,
          application: { select: { name: true } },
          environment: { select: { name: true } },
        },
      });
    },
    /**
     * Start and finish of the newest `take` succeeded deployments with this strategy in this
     * environment, other than `exceptId`, latest finished first (what an ETA is estimated from).
     */
    async recentRuns(
      q: { environmentId: string; strategy: Strategy; exceptId: string; take: number },
      db: Db = root,
    ): Promise<{ startedAt: Date; finishedAt: Date }[]> {
      const rows = await db.deployment.findMany({
        where: {
          environmentId: q.environmentId,
          strategy: q.strategy,
          status: 'succeeded',
          id: { not: q.exceptId },
          startedAt: { not: null },
          finishedAt: { not: null },
        },
        orderBy: { finishedAt: 'desc' },
        take: q.take,
        select: { startedAt: true, finishedAt: true },
      });
      return rows as { startedAt: Date; finishedAt: Date }[];
    },
    /** The deployment's stored events, oldest first, at most `take`. */
    events(id: string, take: number, db: Db = root) {
      return db.event.findMany({
        where: { deploymentId: id },
        orderBy: { seq: 'asc' },
        take,
        select: { seq: true, type: true, payload: true, createdAt: true },
      });
    },
    /**
     * What the promotion order and the verification gate decide from, for a release entering
     * `environmentId` whose pipeline predecessor is `previousId`.
     */
    async promotionFacts(releaseId: string, environmentId: string, previousId: string, db: Db = root) {
      // Coming back to a release that was live here before is a rollback, always allowed.
      const wasLiveHere = await db.deployment.findFirst({
        where: { releaseId, environmentId, status: 'succeeded' },
        select: { id: true },
      });
      const [latest, leftBy, succeeded] = await readAll(db, root, [
        () =>
          db.deployment.findFirst({
            where: { releaseId, environmentId: previousId, finishedAt: { not: null } },
            orderBy: [{ finishedAt: 'desc' }, { id: 'desc' }],
            select: { id: true, status: true, finishedAt: true },
          }),
        // A rollback that moved the previous environment away from this release.
        () =>
          db.deployment.findFirst({
            where: {
              fromReleaseId: releaseId,
              environmentId: previousId,
              kind: 'rollback',
              status: 'succeeded',
            },
            orderBy: [{ finishedAt: 'desc' }, { id: 'desc' }],
            select: { id: true, finishedAt: true },
          }),
        () =>
          db.deployment.findFirst({
            where: { releaseId, environmentId: previousId, status: 'succeeded' },
            select: { id: true },
          }),
      ]);
      return { wasLiveHere, latest, leftBy, succeeded };
    },
  };
}
export type DeploymentRepo = ReturnType<typeof createDeploymentRepo>;
type DeploymentFullRow = NonNullable<Awaited<ReturnType<DeploymentRepo['findById']>>>;
/** A timestamp as findById gives it, or as a history page does: already in ISO form. */
type Stamp = Date | string | null;
/**
 * What a deployment's view is built from: findById's row, or a history page's, which has only these
 * columns (`state` null once the machine is final: it allows no action then; the timestamps but
 * `createdAt` as ISO text).
 */
export type DeploymentViewRow = Pick<
  DeploymentFullRow,
  | 'id'
  | 'kind'
  | 'strategy'
  | 'status'
  | 'waitingFor'
  | 'state'
  | 'options'
  | 'progress'
  | 'analysis'
  | 'requestsServed'
  | 'requestsFailed'
  | 'reason'
  | 'actor'
  | 'error'
  | 'createdAt'
  | 'application'
  | 'environment'
  | 'release'
  | 'fromRelease'
  | 'configVersion'
> & {
  startedAt: Stamp;
  finishedAt: Stamp;
  steps: (Pick<DeploymentFullRow['steps'][number], 'position' | 'name' | 'status' | 'message'> & {
    startedAt: Stamp;
    finishedAt: Stamp;
  })[];
};
