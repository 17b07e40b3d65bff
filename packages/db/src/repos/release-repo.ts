import type { Db } from '../client.ts';
import { afterCursor, newestFirst, page } from '../cursor.ts';

const releaseView = {
  liveIn: { select: { name: true } },
  deployments: {
    orderBy: newestFirst,
    select: { status: true, environment: { select: { name: true } } },
  },
};

export function createReleaseRepo(root: Db) {
  return {
    async list(applicationId: string, opts: { cursor?: string | undefined; limit: number }, db: Db = root) {
      const rows = await db.release.findMany({
        where: { applicationId, ...afterCursor(opts.cursor) },
        orderBy: newestFirst,
        take: opts.limit + 1,
        include: releaseView,
      });
      return page(rows, opts.limit);
    },
    findByVersion(applicationId: string, version: string, db: Db = root) {
      return db.release.findUnique({
        where: { applicationId_version: { applicationId, version } },
        include: releaseView,
      });
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
    create(
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
      return db.release.create({
        data: { ...data, testResults: data.testResults ?? undefined },
        include: releaseView,
      });
    },
  };
}
export type ReleaseRepo = ReturnType<typeof createReleaseRepo>;
export type ReleaseViewRow = NonNullable<Awaited<ReturnType<ReleaseRepo['findByVersion']>>>;
