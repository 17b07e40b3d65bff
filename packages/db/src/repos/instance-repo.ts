import type { Db } from '../client.ts';
import type { Color, InstanceStatus, Prisma } from '../generated/client.ts';
import { RUNTIME_TARGET } from './environment-repo.ts';

/** Instances that may still be running: anything not stopped or given up on. */
export const LIVE_INSTANCE_STATUSES: InstanceStatus[] = [
  'starting',
  'running',
  'unhealthy',
  'oom_killed',
  'stopping',
];

/**
 * Settled instances: no deployment is bringing them up or down, and they are not over (one killed
 * by its memory limit is being started again by its supervisor).
 */
const SETTLED: InstanceStatus[] = ['running', 'unhealthy', 'oom_killed'];

const withVersion = { release: { select: { version: true } } };

export interface NewInstance {
  id: string;
  environmentId: string;
  deploymentId: string | null;
  releaseId: string;
  pool: Color;
  /** The address the runtime driver gave it. */
  host: string;
  port: number;
  /** The enrolled host it runs on (hosts placement); null on this machine. */
  hostId?: string | null;
  /** The limits it is started with. */
  memoryMb?: number | null;
  cpuPercent?: number | null;
}

/** The columns the runtime and the health checks write. */
export interface InstanceUpdate {
  status?: InstanceStatus;
  healthy?: boolean;
  pid?: number | null;
  supervisorPid?: number | null;
  restarts?: number;
  logPath?: string | null;
  stoppedAt?: Date | null;
  lastHealthAt?: Date | null;
  oomKills?: number;
  lastOom?: Prisma.InputJsonValue;
  /** What the supervisor was started with (docs/configuration.md "Drift"). */
  configVersion?: number | null;
  configHash?: string | null;
}

export function createInstanceRepo(root: Db) {
  return {
    /** The runtime target of the environment an instance belongs to (orchestrator drivers.ts). */
    async findRuntimeTarget(id: string, db: Db = root) {
      const row = await db.instance.findUnique({
        where: { id },
        select: { environment: { select: RUNTIME_TARGET } },
      });
      return row?.environment ?? null;
    },
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
    /** Settled instances of an environment: the supervisors the reconcile loop looks after. */
    listSettled(environmentId: string, db: Db = root) {
      return db.instance.findMany({
        where: { environmentId, status: { in: SETTLED } },
        select: { id: true, status: true, supervisorPid: true, pool: true, host: true, port: true },
      });
    },
    /**
     * What the health monitor probes: settled instances that no deployment in progress owns (it
     * judges its own), with their application's health path.
     */
    listWatched(db: Db = root) {
      return db.instance.findMany({
        where: {
          status: { in: SETTLED },
          OR: [
            { deploymentId: null },
            { deployment: { is: { status: { notIn: ['pending', 'running', 'paused'] } } } },
          ],
        },
        include: {
          environment: { select: { application: { select: { healthPath: true } } } },
          release: { select: { version: true } },
        },
      });
    },
    /** One instance of an environment with its version (an instance's log). */
    findInEnvironment(id: string, environmentId: string, db: Db = root) {
      return db.instance.findFirst({
        where: { id, environmentId },
        select: { id: true, pool: true, hostId: true, release: { select: { version: true } } },
      });
    },
    /** Ids of the instances these deployments brought up. */
    async idsOwnedBy(deploymentIds: string[], db: Db = root): Promise<string[]> {
      const rows = await db.instance.findMany({
        where: { deploymentId: { in: deploymentIds } },
        select: { id: true },
      });
      return rows.map((r) => r.id);
    },
    /** Running and healthy instances of one pool: what a canary analysis reports. */
    countHealthy(environmentId: string, pool: Color, db: Db = root) {
      return db.instance.count({ where: { environmentId, pool, status: 'running', healthy: true } });
    },
    /** Instances starting, running or unhealthy (not being stopped) in an environment. */
    countUp(environmentId: string, db: Db = root) {
      return db.instance.count({
        where: { environmentId, status: { in: ['starting', 'running', 'unhealthy', 'oom_killed'] } },
      });
    },
    create(data: NewInstance, db: Db = root) {
      return db.instance.create({ data: { ...data, status: 'starting' }, include: withVersion });
    },
    update(id: string, data: InstanceUpdate, db: Db = root) {
      return db.instance.update({ where: { id }, data });
    },
    /** Updates a settled instance only while it is settled; 0 when it moved on meanwhile. */
    async updateIfSettled(id: string, data: InstanceUpdate, db: Db = root): Promise<number> {
      const res = await db.instance.updateMany({ where: { id, status: { in: SETTLED } }, data });
      return res.count;
    },
    /**
     * Compare-and-set: updates the instance only while its health columns are still `seen`; 0 when
     * someone else wrote them meanwhile (their write wins).
     */
    async updateIfUnchanged(
      id: string,
      seen: { status: InstanceStatus; healthy: boolean; restarts: number },
      data: InstanceUpdate,
      db: Db = root,
    ): Promise<number> {
      const { status, healthy, restarts } = seen;
      const res = await db.instance.updateMany({ where: { id, status, healthy, restarts }, data });
      return res.count;
    },
    markMany(
      ids: string[],
      data: { status: InstanceStatus; healthy?: boolean; stoppedAt?: Date },
      db: Db = root,
    ) {
      if (ids.length === 0) return Promise.resolve({ count: 0 });
      return db.instance.updateMany({ where: { id: { in: ids } }, data });
    },
    /** Those of `ids` still running failed a health check: unhealthy. */
    markUnhealthy(ids: string[], db: Db = root) {
      return db.instance.updateMany({
        where: { id: { in: ids }, status: 'running' },
        data: { status: 'unhealthy', healthy: false },
      });
    },
    /** The instances answered a health check at `at`. */
    touchHealth(ids: string[], at: Date, db: Db = root) {
      return db.instance.updateMany({ where: { id: { in: ids } }, data: { lastHealthAt: at } });
    },
  };
}
export type InstanceRepo = ReturnType<typeof createInstanceRepo>;
export type InstanceRow = Awaited<ReturnType<InstanceRepo['listLive']>>[number];
