import type { Deployment, DeploymentStatus, List } from '@qubot/api-contract';
import type { ApplicationRepo, DeploymentRepo, EnvironmentRepo } from '@qubot/db';
import { AppError } from '../lib/app-error.ts';
import { deploymentView } from '../views/views.ts';
import type { ViewCache } from './view-cache.ts';
import { withCursor } from './with-cursor.ts';

interface DeploymentListQuery {
  app?: string | undefined;
  env?: string | undefined;
  status?: DeploymentStatus | undefined;
  cursor?: string | undefined;
  limit?: number | undefined;
}

/** Read side of deployments; the write side (create/control) lives with the orchestrator. */
export function createDeploymentQueryService(deps: {
  deployments: Pick<DeploymentRepo, 'list' | 'findById'>;
  applications: Pick<ApplicationRepo, 'findByName'>;
  environments: Pick<EnvironmentRepo, 'findByName'>;
  /** Serialised pages kept while no event moved (view-cache.ts); none: every read builds. */
  views?: Pick<ViewCache, 'get'>;
}) {
  return {
    /**
     * The page as the serialised response body, from the view cache while nothing changed: the
     * dashboard's history and CI pollers read the same page over and over. Same answer (and errors)
     * as `list`.
     */
    async listBody(q: DeploymentListQuery, serialize: (v: unknown) => string): Promise<Buffer> {
      const build = async () => Buffer.from(serialize(await this.list(q)));
      const key = `deployments\0${q.app ?? ''}\0${q.env ?? ''}\0${q.status ?? ''}\0${q.cursor ?? ''}\0${q.limit ?? ''}`;
      return deps.views ? deps.views.get(key, build) : build();
    },
    async list(q: DeploymentListQuery): Promise<List<Deployment>> {
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
