import type { Db } from '../client.ts';
import type { Prisma } from '../generated/client.ts';

const ACTIVE = ['pending', 'running', 'paused'] as const;

/** Everything the environment view (DESIGN §6) shows, in one query. */
const environmentView = {
  liveRelease: { select: { id: true, version: true } },
  previousRelease: { select: { id: true, version: true } },
  instances: {
    where: { status: { notIn: ['stopped' as const] } },
    orderBy: [{ pool: 'asc' as const }, { startedAt: 'asc' as const }],
    include: { release: { select: { version: true } } },
  },
  deployments: {
    where: { status: { in: [...ACTIVE] } },
    take: 1,
    include: { release: { select: { version: true } } },
  },
};

export function createEnvironmentRepo(root: Db) {
  return {
    listForApplication(applicationId: string, db: Db = root) {
      return db.environment.findMany({
        where: { applicationId },
        orderBy: { position: 'asc' },
        include: environmentView,
      });
    },
    findView(applicationId: string, name: string, db: Db = root) {
      return db.environment.findUnique({
        where: { applicationId_name: { applicationId, name } },
        include: environmentView,
      });
    },
    findByName(applicationId: string, name: string, db: Db = root) {
      return db.environment.findUnique({ where: { applicationId_name: { applicationId, name } } });
    },
    /** Id and name only (the configuration diff between two environments). */
    findIdByName(applicationId: string, name: string, db: Db = root) {
      return db.environment.findUnique({
        where: { applicationId_name: { applicationId, name } },
        select: { id: true, name: true },
      });
    },
    /** The pipeline's order: ids, names and positions, first environment first. */
    pipeline(applicationId: string, db: Db = root) {
      return db.environment.findMany({
        where: { applicationId },
        select: { id: true, name: true, position: true },
        orderBy: { position: 'asc' },
      });
    },
    /** The pipeline with what is live in each environment (the promotion preview). */
    pipelineWithLive(applicationId: string, db: Db = root) {
      return db.environment.findMany({
        where: { applicationId },
        select: {
          id: true,
          name: true,
          position: true,
          liveRelease: { select: { id: true, version: true, createdAt: true } },
        },
        orderBy: { position: 'asc' },
      });
    },
    findWithApplicationName(id: string, db: Db = root) {
      return db.environment.findUniqueOrThrow({
        where: { id },
        include: { application: { select: { name: true } } },
      });
    },
    findWithLiveVersion(id: string, db: Db = root) {
      return db.environment.findUniqueOrThrow({
        where: { id },
        include: { liveRelease: { select: { version: true } } },
      });
    },
    /**
     * Locks the environment's row for the rest of the transaction and returns it as it is now:
     * every action that changes an environment takes this lock first, then decides.
     */
    async lock(id: string, db: Db) {
      await db.$queryRaw`SELECT id FROM environments WHERE id = ${id}::uuid FOR UPDATE`;
      return db.environment.findUniqueOrThrow({ where: { id } });
    },
    /** Locks the row and reads the demo's synthetic-load switch (null: not a demo environment). */
    async lockSyntheticLoad(id: string, db: Db): Promise<boolean | null> {
      const rows = await db.$queryRaw<{ synthetic_load: boolean | null }[]>`
          SELECT synthetic_load FROM environments WHERE id = ${id}::uuid FOR UPDATE`;
      return rows[0]?.synthetic_load ?? null;
    },
    update(id: string, data: Prisma.EnvironmentUncheckedUpdateInput, db: Db = root) {
      return db.environment.update({ where: { id }, data });
    },
  };
}
export type EnvironmentRepo = ReturnType<typeof createEnvironmentRepo>;
export type EnvironmentViewRow = NonNullable<Awaited<ReturnType<EnvironmentRepo['findView']>>>;
