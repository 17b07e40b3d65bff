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
    include: { release: { select: { version: true } }, enrolledHost: { select: { name: true } } },
  },
  deployments: {
    where: { status: { in: [...ACTIVE] } },
    take: 1,
    include: { release: { select: { version: true } } },
  },
  // The current configuration, to tell drift (docs/configuration.md "Drift").
  configVersions: {
    orderBy: { version: 'desc' as const },
    take: 1,
    select: { version: true, configHash: true },
  },
};

/** The router columns an environment's record of its traffic router is made of. */
export interface RouterUpdate {
  routerPid?: number | null;
  routerPort?: number;
  routerControlPort?: number | null;
  routerSecret?: string | null;
  address?: string;
  /** `up`, `down`, or `handover` (the traffic provider is being changed). */
  routerStatus?: string;
  trafficProvider?: string;
  routerOutageAt?: Date;
  routerRestarts?: { increment: number };
}

/** An environment as a topic names it: its id and its application's. */
const topicRef = { id: true, application: { select: { id: true, name: true } } } as const;

/** The columns `driverFor` chooses an environment's runtime driver from. */
export const RUNTIME_TARGET = {
  runtimeTarget: true,
  kubernetes: true,
  application: { select: { name: true, podTemplate: true } },
} as const;

export function createEnvironmentRepo(root: Db) {
  return {
    findById(id: string, db: Db = root) {
      return db.environment.findUnique({ where: { id } });
    },
    /** The environment, or Prisma's not-found error. */
    get(id: string, db: Db = root) {
      return db.environment.findUniqueOrThrow({ where: { id } });
    },
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
    /** Every environment with its application's name. */
    listWithApplicationName(db: Db = root) {
      return db.environment.findMany({ include: { application: { select: { name: true } } } });
    },
    /** The environment with its application's health path (what a traffic provider checks). */
    getForRouter(id: string, db: Db = root) {
      return db.environment.findUniqueOrThrow({
        where: { id },
        include: { application: { select: { name: true, healthPath: true } } },
      });
    },
    /** Environments that have a router process recorded: what re-adoption and the reconcile loop visit. */
    listWithRouter(db: Db = root) {
      return db.environment.findMany({ where: { routerPid: { not: null } } });
    },
    /** Environments whose router can be asked for figures, with the counter of their running deployment. */
    listForSampling(db: Db = root) {
      return db.environment.findMany({
        where: { routerPid: { not: null } },
        select: {
          id: true,
          name: true,
          trafficProvider: true,
          // Kubernetes environments: the cluster routes, no router figures (runtime.providerFor).
          runtimeTarget: true,
          routerPid: true,
          routerPort: true,
          routerControlPort: true,
          routerSecret: true,
          application: { select: { name: true } },
          deployments: {
            where: { status: { in: ['running', 'paused'] } },
            select: { id: true, trafficCounter: true },
            take: 1,
          },
        },
      });
    },
    /** By id: the environment's id and its application (a subscribed topic). */
    findTopicRef(id: string, db: Db = root) {
      return db.environment.findUnique({ where: { id }, select: topicRef });
    },
    /** By application and environment name: as findTopicRef. */
    findTopicRefByName(applicationName: string, name: string, db: Db = root) {
      return db.environment.findFirst({
        where: { name, application: { name: applicationName } },
        select: topicRef,
      });
    },
    /** Names of environments by id, with their application's id and name. */
    names(ids: string[], db: Db = root) {
      return db.environment.findMany({
        where: { id: { in: ids } },
        select: { id: true, name: true, application: { select: { id: true, name: true } } },
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
    /**
     * Locks the row unless another transaction holds it (`FOR UPDATE SKIP LOCKED`): false then,
     * and the caller leaves the environment to whoever is acting on it.
     */
    async tryLock(id: string, db: Db): Promise<boolean> {
      const rows = await db.$queryRaw<{ id: string }[]>`
          SELECT id FROM environments WHERE id = ${id}::uuid FOR UPDATE SKIP LOCKED`;
      return rows.length > 0;
    },
    /** Locks the row and reads the demo's synthetic-load switch (null: not a demo environment). */
    async lockSyntheticLoad(id: string, db: Db): Promise<boolean | null> {
      const rows = await db.$queryRaw<{ synthetic_load: boolean | null }[]>`
          SELECT synthetic_load FROM environments WHERE id = ${id}::uuid FOR UPDATE`;
      return rows[0]?.synthetic_load ?? null;
    },
    /**
     * Turns the demo's synthetic load on in the application's environments that never had it
     * switched (null), and returns those, in pipeline order.
     */
    async enableUnsetSyntheticLoad(applicationId: string, db: Db = root) {
      const unset = await db.environment.findMany({
        where: { applicationId, syntheticLoad: null },
        select: { id: true, name: true },
        orderBy: { position: 'asc' },
      });
      if (unset.length === 0) return unset;
      await db.environment.updateMany({
        where: { id: { in: unset.map((e) => e.id) } },
        data: { syntheticLoad: true },
      });
      return unset;
    },
    /** Addresses of the environments whose synthetic load is on. */
    async syntheticLoadAddresses(db: Db = root): Promise<string[]> {
      const rows = await db.environment.findMany({
        where: { syntheticLoad: true, address: { not: null } },
        select: { address: true },
      });
      return rows.flatMap((e) => (e.address ? [e.address] : []));
    },
    /** What chooses the runtime driver of environment `app/env` (orchestrator drivers.ts). */
    findRuntimeTarget(appName: string, envName: string, db: Db = root) {
      return db.environment.findFirst({
        where: { name: envName, application: { name: appName } },
        select: RUNTIME_TARGET,
      });
    },
    update(id: string, data: Prisma.EnvironmentUncheckedUpdateInput, db: Db = root) {
      return db.environment.update({ where: { id }, data });
    },
    /**
     * Writes the router columns; with `ifPid` given, only while the row still names that router
     * process. The number of rows written: 0 or 1.
     */
    async updateRouter(id: string, data: RouterUpdate, ifPid?: number | null, db: Db = root) {
      const where = ifPid === undefined ? { id } : { id, routerPid: ifPid };
      const res = await db.environment.updateMany({ where, data });
      return res.count;
    },
    /** Forgets every environment's router process (they were all stopped). */
    forgetRouters(db: Db = root) {
      return db.environment.updateMany({ data: { routerPid: null } });
    },
  };
}
export type EnvironmentRepo = ReturnType<typeof createEnvironmentRepo>;
export type EnvironmentViewRow = NonNullable<Awaited<ReturnType<EnvironmentRepo['findView']>>>;
