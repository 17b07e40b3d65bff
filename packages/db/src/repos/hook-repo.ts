import type { Db } from '../client.ts';

/** Hook runs of a deployment (a handful each: a retry or two per hook). */
const MAX_RUNS = 100;

export function createHookRepo(root: Db) {
  return {
    /** Oldest first, on index (deployment_id, started_at). */
    listForDeployment(deploymentId: string, db: Db = root) {
      return db.hookRun.findMany({
        where: { deploymentId },
        orderBy: [{ startedAt: 'asc' }, { id: 'asc' }],
        take: MAX_RUNS,
      });
    },
    findRun(deploymentId: string, id: string, db: Db = root) {
      return db.hookRun.findFirst({ where: { id, deploymentId } });
    },
  };
}
export type HookRepo = ReturnType<typeof createHookRepo>;
