import type { Db } from '../client.ts';
import type { Prisma } from '../generated/client.ts';

/**
 * Promotion policies (environments.promotion_policy) and the automatic deployments they made
 * (policy_runs). Every read here is keyed: an environment by id, a release's newest deployment
 * in one environment, the application's newest release — never a scan of deployment history.
 */
export function createPolicyRepo(root: Db) {
  const policyEnv = {
    id: true,
    applicationId: true,
    name: true,
    position: true,
    protected: true,
    requiresApproval: true,
    policy: true,
    liveReleaseId: true,
    application: { select: { name: true } },
  } as const;
  return {
    /** Environments whose policy is automatic (the environments table is small: apps × stages). */
    listAutomatic(db: Db = root) {
      return db.environment.findMany({
        where: { policy: { path: ['mode'], equals: 'auto' } },
        select: policyEnv,
        orderBy: [{ applicationId: 'asc' }, { position: 'asc' }],
      });
    },
    /** An application's environments with their policies, in pipeline order. */
    listForApplication(applicationId: string, db: Db = root) {
      return db.environment.findMany({
        where: { applicationId },
        select: policyEnv,
        orderBy: { position: 'asc' },
      });
    },
    find(environmentId: string, db: Db = root) {
      return db.environment.findUnique({ where: { id: environmentId }, select: policyEnv });
    },
    setPolicy(environmentId: string, policy: Prisma.InputJsonValue, db: Db) {
      return db.environment.update({ where: { id: environmentId }, data: { policy } });
    },
    /** The application's newest release (index releases(application_id, created_at DESC, id)). */
    newestRelease(applicationId: string, db: Db = root) {
      return db.release.findFirst({
        where: { applicationId },
        orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
        select: { id: true, version: true, testResults: true, createdAt: true },
      });
    },
    release(id: string, db: Db = root) {
      return db.release.findUnique({ where: { id }, select: { id: true, version: true } });
    },
    /** Whether the release was ever deployed to the environment, by anyone (newest-first index). */
    async everDeployed(releaseId: string, environmentId: string, db: Db = root): Promise<boolean> {
      const row = await db.deployment.findFirst({
        where: { releaseId, environmentId },
        orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
        select: { id: true },
      });
      return row !== null;
    },
    /** The release's newest successful deployment in an environment: when it went live and its analysis. */
    lastSucceeded(releaseId: string, environmentId: string, db: Db = root) {
      return db.deployment.findFirst({
        where: { releaseId, environmentId, status: 'succeeded' },
        orderBy: [{ finishedAt: 'desc' }],
        select: { id: true, finishedAt: true, analysis: true },
      });
    },
    findRun(environmentId: string, releaseId: string, db: Db = root) {
      return db.policyRun.findUnique({
        where: { environmentId_releaseId: { environmentId, releaseId } },
        select: { id: true, deploymentId: true, rule: true, createdAt: true },
      });
    },
    /**
     * Claims (environment, release) for the deployment being created, in its transaction: false
     * when another process already did (the unique pair), and that caller must roll back.
     */
    async claim(
      run: { environmentId: string; releaseId: string; deploymentId: string; rule: string },
      db: Db,
    ): Promise<boolean> {
      const rows = await db.$queryRaw<{ id: string }[]>`
        INSERT INTO policy_runs (id, environment_id, release_id, deployment_id, rule)
        VALUES (gen_random_uuid(), ${run.environmentId}::uuid, ${run.releaseId}::uuid,
                ${run.deploymentId}::uuid, ${run.rule})
        ON CONFLICT (environment_id, release_id) DO NOTHING
        RETURNING id`;
      return rows.length === 1;
    },
  };
}
export type PolicyRepo = ReturnType<typeof createPolicyRepo>;
