import type { Db } from '../client.ts';

export interface NewApplication {
  name: string;
  description: string | null;
  launcher: string;
  launcherCwd: string | null;
  healthPath?: string;
  environments: {
    name: string;
    position: number;
    protected: boolean;
    requiresApproval: boolean;
    replicas: number;
  }[];
}

export function createApplicationRepo(root: Db) {
  return {
    list(db: Db = root) {
      return db.application.findMany({
        orderBy: { name: 'asc' },
        include: { environments: { orderBy: { position: 'asc' }, select: { name: true } } },
      });
    },
    findByName(name: string, db: Db = root) {
      return db.application.findUnique({ where: { name } });
    },
    /** Which of these names are applications. */
    async existingNames(names: string[], db: Db = root) {
      const rows = await db.application.findMany({ where: { name: { in: names } }, select: { name: true } });
      return rows.map((r) => r.name);
    },
    /** An application with its pipeline, environments in order. */
    create(data: NewApplication, db: Db = root) {
      const { environments, ...app } = data;
      return db.application.create({
        data: { ...app, environments: { create: environments } },
        include: { environments: { orderBy: { position: 'asc' } } },
      });
    },
  };
}
export type ApplicationRepo = ReturnType<typeof createApplicationRepo>;
