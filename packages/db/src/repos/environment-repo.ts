import type { Db } from '../client.ts';

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
  };
}
export type EnvironmentRepo = ReturnType<typeof createEnvironmentRepo>;
export type EnvironmentViewRow = NonNullable<Awaited<ReturnType<EnvironmentRepo['findView']>>>;
