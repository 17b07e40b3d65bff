import type { Db } from '../client.ts';

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
  };
}
export type ApplicationRepo = ReturnType<typeof createApplicationRepo>;
