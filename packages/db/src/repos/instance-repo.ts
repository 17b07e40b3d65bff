import type { Db } from '../client.ts';
import type { Color, InstanceStatus } from '../generated/client.ts';

/** Instances that may still be running: anything not stopped or given up on. */
export const LIVE_INSTANCE_STATUSES: InstanceStatus[] = ['starting', 'running', 'unhealthy', 'stopping'];

const withVersion = { release: { select: { version: true } } };

export interface NewInstance {
  id: string;
  environmentId: string;
  deploymentId: string | null;
  releaseId: string;
  pool: Color;
  port: number;
}

export function createInstanceRepo(root: Db) {
  return {
    /** Live instances of an environment (optionally one pool), oldest first. */
    listLive(environmentId: string, pool?: Color, db: Db = root) {
      return db.instance.findMany({
        where: { environmentId, status: { in: LIVE_INSTANCE_STATUSES }, ...(pool ? { pool } : {}) },
        orderBy: [{ startedAt: 'asc' }, { id: 'asc' }],
        include: withVersion,
      });
    },
    /** Every live instance, for re-adoption after a control-plane restart. */
    listAllLive(db: Db = root) {
      return db.instance.findMany({
        where: { status: { in: LIVE_INSTANCE_STATUSES } },
        orderBy: [{ startedAt: 'asc' }, { id: 'asc' }],
        include: withVersion,
      });
    },
    create(data: NewInstance, db: Db = root) {
      return db.instance.create({ data: { ...data, status: 'starting' }, include: withVersion });
    },
    update(
      id: string,
      data: {
        status?: InstanceStatus;
        healthy?: boolean;
        pid?: number | null;
        supervisorPid?: number | null;
        restarts?: number;
        logPath?: string | null;
        stoppedAt?: Date | null;
        lastHealthAt?: Date | null;
      },
      db: Db = root,
    ) {
      return db.instance.update({ where: { id }, data });
    },
    markMany(
      ids: string[],
      data: { status: InstanceStatus; healthy?: boolean; stoppedAt?: Date },
      db: Db = root,
    ) {
      if (ids.length === 0) return Promise.resolve({ count: 0 });
      return db.instance.updateMany({ where: { id: { in: ids } }, data });
    },
  };
}
export type InstanceRepo = ReturnType<typeof createInstanceRepo>;
export type InstanceRow = Awaited<ReturnType<InstanceRepo['listLive']>>[number];
