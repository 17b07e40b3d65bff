import type { Deployment, DeploymentStatus, List } from '@qubot/api-contract';
import type { ApplicationRepo, DeploymentRepo, EnvironmentRepo } from '@qubot/db';
import { AppError } from '../lib/app-error.ts';
import { deploymentView } from '../views/views.ts';
import { withCursor } from './with-cursor.ts';

/** Read side of deployments; the write side (create/control) lives with the orchestrator. */
export function createDeploymentQueryService(deps: {
  deployments: Pick<DeploymentRepo, 'list' | 'findById'>;
  applications: Pick<ApplicationRepo, 'findByName'>;
  environments: Pick<EnvironmentRepo, 'findByName'>;
}) {
  return {
    async list(q: {
      app?: string | undefined;
      env?: string | undefined;
      status?: DeploymentStatus | undefined;
      cursor?: string | undefined;
      limit?: number | undefined;
    }): Promise<List<Deployment>> {
      if (q.env && !q.app)
        throw AppError.badField(
          'querystring.env',
          'needs querystring.app (environment names are per application)',
        );
      // Names are resolved inside the page's statement; only an empty page asks whether they exist.
      const res = await withCursor(() =>
        deps.deployments.list(
          { applicationName: q.app, environmentName: q.env, status: q.status },
          { cursor: q.cursor, limit: q.limit ?? 50 },
        ),
      );
      if (res.items.length === 0 && q.app) {
        const app = await deps.applications.findByName(q.app);
        if (!app) throw AppError.notFound(`application "${q.app}"`, { field: 'querystring.app' });
        if (q.env && !(await deps.environments.findByName(app.id, q.env)))
          throw AppError.notFound(`environment "${q.env}"`, { field: 'querystring.env' });
      }
      return { items: res.items.map(deploymentView), nextCursor: res.nextCursor };
    },
    async get(id: string): Promise<Deployment> {
      const row = await deps.deployments.findById(id);
      if (!row) throw AppError.notFound(`deployment ${id}`, { field: 'params.id' });
      return deploymentView(row);
    },
  };
}
export type DeploymentQueryService = ReturnType<typeof createDeploymentQueryService>;
