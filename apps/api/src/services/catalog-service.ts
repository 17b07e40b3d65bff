import type { Application, Environment } from '@qubot/api-contract';
import type { ApplicationRepo, EnvironmentRepo } from '@qubot/db';
import { AppError } from '../lib/app-error.ts';
import { environmentView } from './views.ts';

/** Applications and their environment pipelines (read side). */
export function createCatalogService(deps: {
  applications: Pick<ApplicationRepo, 'list' | 'findByName'>;
  environments: Pick<EnvironmentRepo, 'listForApplication' | 'findView' | 'findByName'>;
}) {
  async function requireApp(name: string) {
    const app = await deps.applications.findByName(name);
    if (!app) throw AppError.notFound(`application "${name}"`, { field: 'params.app' });
    return app;
  }
  async function requireEnvironment(appName: string, envName: string) {
    const app = await requireApp(appName);
    const env = await deps.environments.findByName(app.id, envName);
    if (!env) throw AppError.notFound(`environment "${envName}" of "${appName}"`, { field: 'params.env' });
    return { app, env };
  }
  return {
    requireApp,
    requireEnvironment,
    async listApplications(): Promise<{ items: Application[]; nextCursor: null }> {
      const rows = await deps.applications.list();
      return {
        items: rows.map((a) => ({
          id: a.id,
          name: a.name,
          description: a.description,
          environments: a.environments.map((e) => e.name),
          createdAt: a.createdAt.toISOString(),
        })),
        nextCursor: null,
      };
    },
    async listEnvironments(appName: string): Promise<{ items: Environment[]; nextCursor: null }> {
      const app = await requireApp(appName);
      const rows = await deps.environments.listForApplication(app.id);
      return { items: rows.map(environmentView), nextCursor: null };
    },
    async getEnvironment(appName: string, envName: string): Promise<Environment> {
      const app = await requireApp(appName);
      const row = await deps.environments.findView(app.id, envName);
      if (!row) throw AppError.notFound(`environment "${envName}" of "${appName}"`, { field: 'params.env' });
      return environmentView(row);
    },
  };
}
export type CatalogService = ReturnType<typeof createCatalogService>;
