import {
  createApplicationRepo,
  createAuditRepo,
  createBackupRepo,
  createConfigRepo,
  createDeploymentRepo,
  createDeploymentWriteRepo,
  createEnvironmentRepo,
  createFreezeRepo,
  createHookRepo,
  createHostRepo,
  createIdempotencyRepo,
  createInstanceRepo,
  createLoginThrottleRepo,
  createMetricRepo,
  createPolicyRepo,
  createReleaseRepo,
  createScalingRepo,
  createSessionRepo,
  createTokenRepo,
  createTransact,
  createUserRepo,
  createWebhookRepo,
  type Database,
} from '@qubot/db';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

/** Every repository over the app's database, and the one way to open a transaction. */
export function createRepos(db: Database) {
  const { prisma } = db;
  return {
    transact: createTransact(prisma),
    applications: createApplicationRepo(prisma),
    environments: createEnvironmentRepo(prisma),
    releases: createReleaseRepo(prisma, { pool: db.pool }),
    deployments: createDeploymentRepo(prisma, { pool: db.pool }),
    deploymentWrites: createDeploymentWriteRepo(prisma),
    instances: createInstanceRepo(prisma),
    configs: createConfigRepo(prisma),
    hooks: createHookRepo(prisma),
    hosts: createHostRepo(prisma),
    audit: createAuditRepo(prisma, { pool: db.pool }),
    backups: createBackupRepo(prisma),
    freezes: createFreezeRepo(prisma),
    scaling: createScalingRepo(prisma),
    idempotency: createIdempotencyRepo(prisma),
    users: createUserRepo(prisma),
    sessions: createSessionRepo(prisma, db.pool),
    tokens: createTokenRepo(prisma, db.pool),
    loginThrottles: createLoginThrottleRepo(prisma),
    metrics: createMetricRepo(prisma),
    policies: createPolicyRepo(prisma),
    webhooks: createWebhookRepo(prisma, db.pool),
  };
}
export type Repos = ReturnType<typeof createRepos>;

declare module 'fastify' {
  interface FastifyInstance {
    db: Database;
    repos: Repos;
  }
}

/** The database is opened by the caller (main.ts or the test helper) and closed by it too. */
export default fp(
  async (app: FastifyInstance, opts: { db: Database }) => {
    app.decorate('db', opts.db);
    app.decorate('repos', createRepos(opts.db));
  },
  { name: 'database' },
);
