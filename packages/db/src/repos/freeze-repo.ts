import type { Db } from '../client.ts';
import type { Prisma } from '../generated/client.ts';

/** Freeze windows (table freeze_windows). */
export function createFreezeRepo(root: Db) {
  return {
    /** Windows that may be active at `at`: recurring ones (no endsAt) and one-off ones spanning it. */
    listCandidates(environmentId: string, at: Date, db: Db = root) {
      return db.freezeWindow.findMany({
        where: {
          environmentId,
          // Recurring windows have no endsAt; one-off ones must span `at`.
          OR: [{ endsAt: null }, { startsAt: { lte: at }, endsAt: { gt: at } }],
        },
        orderBy: { createdAt: 'asc' },
      });
    },
    /** Every window of an environment, newest first. */
    list(environmentId: string, db: Db = root) {
      return db.freezeWindow.findMany({
        where: { environmentId },
        orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
      });
    },
    create(
      data: {
        environmentId: string;
        reason: string;
        startsAt: Date | null;
        endsAt: Date | null;
        recurrence?: Prisma.InputJsonValue;
        createdBy: string;
      },
      db: Db = root,
    ) {
      return db.freezeWindow.create({ data });
    },
    find(id: string, environmentId: string, db: Db = root) {
      return db.freezeWindow.findFirst({ where: { id, environmentId } });
    },
    delete(id: string, db: Db = root) {
      return db.freezeWindow.delete({ where: { id } });
    },
  };
}
export type FreezeRepo = ReturnType<typeof createFreezeRepo>;
