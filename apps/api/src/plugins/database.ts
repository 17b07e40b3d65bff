import {
  createApplicationRepo,
  createDeploymentRepo,
  createEnvironmentRepo,
  createReleaseRepo,
  type Database,
} from '@qubot/db';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

export function createRepos(db: Database) {
  return {
    applications: createApplicationRepo(db.prisma),
    environments: createEnvironmentRepo(db.prisma),
    releases: createReleaseRepo(db.prisma),
    deployments: createDeploymentRepo(db.prisma),
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
