import type { Db } from '../client.ts';
import { afterCursor, newestFirst, page } from '../cursor.ts';
import type { DeploymentStatus, Release } from '../generated/client.ts';

/** A release as its view needs it: where it is live, and its latest deployment per environment. */
export type ReleaseViewRow = Release & {
  liveIn: { name: string }[];
  /** The release's newest deployment in each environment it was deployed to (newest first). */
  deployments: { status: DeploymentStatus; environment: { name: string } }[];
};

/**
 * Adds to each release its newest deployment per environment: one index probe per (release,
 * environment) on `deployments(release_id, environment_id, created_at DESC, id DESC)`, however
 * many times a release was deployed (loading all of them made a page of a busy history read
 * every deployment of its releases).
 */
async function withLastDeployments(
  db: Db,
  applicationId: string,
  rows: (Release & { liveIn: { name: string }[] })[],
): Promise<ReleaseViewRow[]> {
  if (rows.length === 0) return [];
  const found = await db.$queryRaw<
    { releaseId: string; environment: string; status: DeploymentStatus; createdAt: Date }[]
  >`
    SELECT r.id::text AS "releaseId", e.name AS environment, d.status, d.created_at AS "createdAt"
    FROM unnest(${rows.map((r) => r.id)}::uuid[]) AS r(id)
    JOIN environments e ON e.application_id = ${applicationId}::uuid
    CROSS JOIN LATERAL (
      SELECT status, created_at FROM deployments
      WHERE release_id = r.id AND environment_id = e.id
      ORDER BY created_at DESC, id DESC
      LIMIT 1
    ) d`;
  const byRelease = new Map<string, typeof found>();
  for (const f of found) byRelease.set(f.releaseId, [...(byRelease.get(f.releaseId) ?? []), f]);
  return rows.map((row) => ({
    ...row,
    deployments: (byRelease.get(row.id) ?? [])
      .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime())
      .map((d) => ({ status: d.status, environment: { name: d.environment } })),
  }));
}

const liveIn = { liveIn: { select: { name: true } } };

export function createReleaseRepo(root: Db) {
  return {
    async list(applicationId: string, opts: { cursor?: string | undefined; limit: number }, db: Db = root) {
      const rows = await db.release.findMany({
        where: { applicationId, ...afterCursor(opts.cursor) },
        orderBy: newestFirst,
        take: opts.limit + 1,
        include: liveIn,
      });
      const paged = page(rows, opts.limit);
      return { ...paged, items: await withLastDeployments(db, applicationId, paged.items) };
    },
    async findByVersion(
      applicationId: string,
      version: string,
      db: Db = root,
    ): Promise<ReleaseViewRow | null> {
      const row = await db.release.findUnique({
        where: { applicationId_version: { applicationId, version } },
        include: liveIn,
      });
      return row ? ((await withLastDeployments(db, applicationId, [row]))[0] ?? null) : null;
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
    /** Versions of releases by id (primary key lookups). */
    versions(ids: string[], db: Db = root) {
      return db.release.findMany({ where: { id: { in: ids } }, select: { id: true, version: true } });
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
