import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { type CatalogService, createCatalogService } from '../services/catalog-service.ts';
import { createDeploymentQueryService, type DeploymentQueryService } from '../services/deployment-service.ts';
import { createReleaseService, type ReleaseService } from '../services/release-service.ts';

export interface Services {
  catalog: CatalogService;
  releases: ReleaseService;
  deploymentQueries: DeploymentQueryService;
}

declare module 'fastify' {
  interface FastifyInstance {
    services: Services;
  }
}

export default fp(
  async (app: FastifyInstance) => {
    const { repos, db } = app;
    const catalog = createCatalogService({
      applications: repos.applications,
      environments: repos.environments,
    });
    app.decorate('services', {
      catalog,
      releases: createReleaseService({ db, releases: repos.releases, catalog }),
      deploymentQueries: createDeploymentQueryService({
        deployments: repos.deployments,
        applications: repos.applications,
        environments: repos.environments,
      }),
    });
  },
  { name: 'services', dependencies: ['database'] },
);
