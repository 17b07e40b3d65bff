import type { Db } from '../client.ts';
import { afterCursorSql, page } from '../cursor.ts';
import { type DeploymentStatus, Prisma, type Release } from '../generated/client.ts';
import { camelRow, queryRows, type RawQueryable } from './raw-rows.ts';

/** A release as its view needs it: where it is live, and its latest deployment per environment. */
export type ReleaseViewRow = Release & {
  liveIn: { name: string }[];
  /** The release's newest deployment in each environment it was deployed to (newest first). */
  deployments: { status: DeploymentStatus; environment: { name: string } }[];
};

/**
 * Releases of one application with where each is live and its newest deployment per environment,
 * in ONE statement: the releases from `releases(application_id, created_at DESC, id DESC)`, then
 * one index probe per (release, environment) on `deployments(release_id, environment_id,
 * created_at DESC, id DESC)`, however many times a release was deployed (loading all of them made
 * a page of a busy history read every deployment of its releases). Prisma's include was three
 * round trips and its result mapping.
 */
function releaseStatement(applicationId: string, where: Prisma.Sql[], limit: number): Prisma.Sql {
  return Prisma.sql`
    SELECT r.*,
           (SELECT coalesce(json_agg(json_build_object('name', e.name) ORDER BY e.name), '[]'::json)
              FROM environments e WHERE e.live_release_id = r.id) AS "_liveIn",
           (SELECT coalesce(json_agg(json_build_object('status', d.status, 'environment', json_build_object('name', e.name))
                            ORDER BY d.created_at DESC, d.id DESC), '[]'::json)
              FROM environments e
              CROSS JOIN LATERAL (
                SELECT status, created_at, id FROM deployments
                 WHERE release_id = r.id AND environment_id = e.id
                 ORDER BY created_at DESC, id DESC
                 LIMIT 1) d
             WHERE e.application_id = r.application_id) AS "_deployments"
      FROM (SELECT * FROM releases
             WHERE ${Prisma.join([Prisma.sql`application_id = ${applicationId}::uuid`, ...where], ' AND ')}
             ORDER BY created_at DESC, id DESC LIMIT ${limit}) r
     ORDER BY r.created_at DESC, r.id DESC`;
}

/** The statement of one keyset page of releases (exported for bench/history-scale.ts's EXPLAIN). */
export function releaseListStatement(
  applicationId: string,
  opts: { cursor?: string | undefined; limit: number },
): Prisma.Sql {
  const where: Prisma.Sql[] = [];
  if (opts.cursor) where.push(afterCursorSql(opts.cursor));
  return releaseStatement(applicationId, where, opts.limit + 1);
}

function toViewRow(raw: Record<string, unknown>): ReleaseViewRow {
  const row = camelRow(raw);
  row.liveIn = raw._liveIn;
  row.deployments = raw._deployments;
  return row as unknown as ReleaseViewRow;
}

const liveIn = { liveIn: { select: { name: true } } };

export function createReleaseRepo(root: Db, raw: { pool?: RawQueryable } = {}) {
  return {
    async list(applicationId: string, opts: { cursor?: string | undefined; limit: number }, db: Db = root) {
      const rows = await queryRows(releaseListStatement(applicationId, opts), db, root, raw.pool);
      return page(rows.map(toViewRow), opts.limit);
    },
    async findByVersion(
      applicationId: string,
      version: string,
      db: Db = root,
    ): Promise<ReleaseViewRow | null> {
      const rows = await queryRows(
        releaseStatement(applicationId, [Prisma.sql`version = ${version}`], 1),
        db,
        root,
        raw.pool,
      );
      return rows[0] ? toViewRow(rows[0]) : null;
    },
    /** The release row alone (no view), e.g. to check a version exists before deploying it. */
    find(applicationId: string, version: string, db: Db = root) {
      return db.release.findUnique({ where: { applicationId_version: { applicationId, version } } });
    },
    /**
     * Releases registered up to `upTo` and after `after` (when given), newest first, at most 100:
     * what a promotion would bring (their changelogs).
     */
    listBetween(applicationId: string, range: { upTo: Date; after?: Date | undefined }, db: Db = root) {
      return db.release.findMany({
        where: {
          applicationId,
          createdAt: { lte: range.upTo, ...(range.after ? { gt: range.after } : {}) },
        },
        select: { version: true, changelog: true, createdAt: true },
        orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
        take: 100,
      });
    },
    async create(
      data: {
        applicationId: string;
        version: string;
        artifact: string;
        commit?: string | null;
        changelog?: string | null;
        buildUrl?: string | null;
        testResults?: object | null;
        createdBy: string;
      },
      db: Db = root,
    ) {
      const row = await db.release.create({
        data: { ...data, testResults: data.testResults ?? undefined },
        include: liveIn,
      });
      return { ...row, deployments: [] } as ReleaseViewRow;
    },
  };
}
export type ReleaseRepo = ReturnType<typeof createReleaseRepo>;
