import type { Db } from '../client.ts';
import {
  type DeploymentKind,
  type DeploymentStatus,
  Prisma,
  type StepStatus,
  type Strategy,
} from '../generated/client.ts';

/**
 * Open work: the predicate of the partial index deployments_open_work_idx (migration
 * 20261202000500_history_at_scale), repeated word for word so that PostgreSQL uses the index.
 */
const OPEN_WORK = Prisma.sql`(status IN ('pending', 'running', 'paused')
     OR (status = 'succeeded' AND (state ->> 'phase') = 'cleanup'))`;

/** The orchestrator's list of open work (exported for the plan test). */
export const UNFINISHED = Prisma.sql`SELECT id::text AS id, environment_id::text AS "environmentId", status::text AS status
  FROM deployments WHERE ${OPEN_WORK}`;

export const ACTIVE_DEPLOYMENT_STATUSES: DeploymentStatus[] = ['pending', 'running', 'paused'];

export interface StepRow {
  name: string;
  status: StepStatus;
  message: string | null;
  startedAt: string | null;
  finishedAt: string | null;
}

export interface NewDeployment {
  applicationId: string;
  environmentId: string;
  releaseId: string;
  fromReleaseId: string | null;
  kind: DeploymentKind;
  strategy: Strategy;
  options: Prisma.InputJsonValue;
  state: Prisma.InputJsonValue;
  progress: Prisma.InputJsonValue;
  reason: string | null;
  actor: string;
  /** The person behind `actor` (a token's creator): who may not approve it. */
  actorUserId?: string | null;
  rollbackOfId?: string | null;
  /** The configuration version this deployment ships (DESIGN §8). */
  configVersionId?: string | null;
  steps: StepRow[];
}

export interface DeploymentStateUpdate {
  status: DeploymentStatus;
  waitingFor: string | null;
  state: Prisma.InputJsonValue;
  progress: Prisma.InputJsonValue;
  analysis: Prisma.InputJsonValue;
  error: string | null;
  startedAt: Date | null;
  finishedAt: Date | null;
  requestsServed?: bigint;
  requestsFailed?: bigint;
  trafficCounter?: Prisma.InputJsonValue;
}

const toDate = (s: string | null) => (s ? new Date(s) : null);

/** The write side of deployments: creation, the locked read the orchestrator transitions from, and saves. */
export function createDeploymentWriteRepo(root: Db) {
  return {
    create(d: NewDeployment, db: Db = root) {
      const { steps, ...data } = d;
      return db.deployment.create({
        data: {
          ...data,
          status: 'pending',
          steps: {
            create: steps.map((s, position) => ({
              position,
              name: s.name,
              status: s.status,
              message: s.message,
              startedAt: toDate(s.startedAt),
              finishedAt: toDate(s.finishedAt),
            })),
          },
        },
      });
    },
    /**
     * Row-locks the deployment for the rest of the transaction: transitions are serialised per
     * deployment. Its environment's row is locked first, so every change to an environment
     * (deployments, traffic, settings) takes the locks in one order: environment, then deployment.
     */
    async lock(id: string, db: Db) {
      await db.$queryRaw`SELECT e.id FROM environments e JOIN deployments d ON d.environment_id = e.id
        WHERE d.id = ${id}::uuid FOR UPDATE OF e`;
      await db.$queryRaw`SELECT id FROM deployments WHERE id = ${id}::uuid FOR UPDATE`;
      return db.deployment.findUnique({
        where: { id },
        include: {
          release: { select: { version: true } },
          environment: { select: { id: true, name: true, applicationId: true, protected: true } },
        },
      });
    },
    /** The state the orchestrator drives from, unlocked (the lease keeps other drivers away). */
    findState(id: string, db: Db = root) {
      return db.deployment.findUnique({
        where: { id },
        select: { state: true, environmentId: true, updatedAt: true },
      });
    },
    /** When the deployment last changed: a waiting driver polls it. */
    findUpdatedAt(id: string, db: Db = root) {
      return db.deployment.findUnique({ where: { id }, select: { updatedAt: true } });
    },
    async save(id: string, update: DeploymentStateUpdate, steps: StepRow[], db: Db) {
      await db.deployment.update({ where: { id }, data: update });
      const existing = await db.deploymentStep.findMany({
        where: { deploymentId: id },
        orderBy: { position: 'asc' },
      });
      for (const [position, s] of steps.entries()) {
        const row = existing[position];
        const data = {
          name: s.name,
          status: s.status,
          message: s.message,
          startedAt: toDate(s.startedAt),
          finishedAt: toDate(s.finishedAt),
        };
        if (!row) {
          await db.deploymentStep.create({ data: { deploymentId: id, position, ...data } });
        } else if (
          row.name !== data.name ||
          row.status !== data.status ||
          row.message !== data.message ||
          row.startedAt?.getTime() !== data.startedAt?.getTime() ||
          row.finishedAt?.getTime() !== data.finishedAt?.getTime()
        ) {
          await db.deploymentStep.update({ where: { id: row.id }, data });
        }
      }
    },
    /**
     * Deployments the orchestrator still has work for: active ones and succeeded ones still cleaning
     * up. Reads only the partial index deployments_open_work_idx, never the finished history.
     */
    listUnfinished(db: Db = root) {
      return db.$queryRaw<{ id: string; environmentId: string; status: DeploymentStatus }[]>(UNFINISHED);
    },
    /** The (locked) deployment with its environment's name and protection: what an action is checked against. */
    findWithEnvironment(id: string, db: Db) {
      return db.deployment.findUniqueOrThrow({
        where: { id },
        include: { environment: { select: { name: true, protected: true } } },
      });
    },
    /** A second person's approval (the two-person rule). */
    recordApproval(data: { deploymentId: string; userId: string; comment: string | null }, db: Db) {
      return db.approval.create({ data });
    },
    /** Ids of the environment's active deployments other than `exceptId`. */
    async activeIdsExcept(environmentId: string, exceptId: string, db: Db = root): Promise<string[]> {
      const rows = await db.deployment.findMany({
        where: { environmentId, id: { not: exceptId }, status: { in: ACTIVE_DEPLOYMENT_STATUSES } },
        select: { id: true },
      });
      return rows.map((r) => r.id);
    },
    /** Whether the environment has open work (the predicate of deployments_open_work_idx). */
    async hasOpenWork(environmentId: string, db: Db = root): Promise<boolean> {
      const rows = await db.$queryRaw<unknown[]>`
        SELECT 1 FROM deployments
         WHERE environment_id = ${environmentId}::uuid AND ${OPEN_WORK}
         LIMIT 1`;
      return rows.length > 0;
    },
    findActive(environmentId: string, db: Db = root) {
      return db.deployment.findFirst({
        where: { environmentId, status: { in: ACTIVE_DEPLOYMENT_STATUSES } },
      });
    },
    /** Succeeded deployments still in post-success housekeeping (e.g. a blue-green rollback window). */
    listCleaningUp(environmentId: string, db: Db = root) {
      return db.$queryRaw<{ id: string }[]>`
        SELECT id::text AS id FROM deployments
         WHERE environment_id = ${environmentId}::uuid AND status = 'succeeded' AND ${OPEN_WORK}`;
    },
    /** Finished deployments of an environment, newest first, for rollback planning and promotion checks. */
    history(environmentId: string, db: Db = root) {
      return db.deployment.findMany({
        where: { environmentId, finishedAt: { not: null } },
        orderBy: [{ finishedAt: 'desc' }, { id: 'desc' }],
        take: 200,
        select: { id: true, status: true, finishedAt: true, release: { select: { version: true } } },
      });
    },
    /** Environments (by id) where a release has a succeeded deployment. */
    async succeededIn(releaseId: string, db: Db = root) {
      const rows = await db.deployment.findMany({
        where: { releaseId, status: 'succeeded' },
        select: { environment: { select: { name: true } } },
        distinct: ['environmentId'],
      });
      return rows.map((r) => r.environment.name);
    },
  };
}
export type DeploymentWriteRepo = ReturnType<typeof createDeploymentWriteRepo>;
export type LockedDeployment = NonNullable<Awaited<ReturnType<DeploymentWriteRepo['lock']>>>;
