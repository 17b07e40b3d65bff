import type { Application, Environment } from '@qubot/api-contract';
import type { ApplicationRepo, EnvironmentRepo } from '@qubot/db';
import { AppError } from '../lib/app-error.ts';
import { environmentView } from '../views/views.ts';
import type { ViewCache } from './view-cache.ts';

/** Applications and their environment pipelines (read side). */
export function createCatalogService(deps: {
  applications: Pick<ApplicationRepo, 'list' | 'findByName'>;
  environments: Pick<EnvironmentRepo, 'listForApplication' | 'findView' | 'findByName'>;
  /** Serialised pipeline views, kept until the next event (view-cache.ts); none = always build. */
  views?: ViewCache;
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
  async function buildApplications(): Promise<{ items: Application[]; nextCursor: null }> {
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
  }
  return {
    requireApp,
    requireEnvironment,
    /**
     * Every application (the route filters by who asks), from the view cache: an application is
     * only ever created (with its `application.created` event), so the list is current until an
     * event says otherwise.
     */
    async listApplications(): Promise<{ items: Application[]; nextCursor: null }> {
      return deps.views ? deps.views.get('applications', buildApplications) : buildApplications();
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
    /** Hits and builds of the view cache (tests check that reads are served from it). */
    viewCacheStats: () => deps.views?.stats() ?? null,
    /**
     * The pipeline as the response body, `serialize`d by the route: the read every dashboard and CLI
     * poller repeats, answered from the view cache while no event has been committed since.
     * The body is the same for every caller; the route's authentication decides who gets it. It is
     * kept as UTF-8 bytes: a cached read is then written as is (no length count, no encoding).
     * Called on every pipeline read: no named closure per call (tsx's `keepNames` wraps each in a
     * `__name` call that redefines its name, a visible share of a cached read's CPU) and no
     * promise of its own around the cache's.
     */
    environmentsBody(appName: string, serialize: (v: unknown) => string): Promise<Buffer> {
      return deps.views
        ? deps.views.get(`environments\0${appName}`, () => bodyOf(this.listEnvironments(appName), serialize))
        : bodyOf(this.listEnvironments(appName), serialize);
    },
    environmentBody(appName: string, envName: string, serialize: (v: unknown) => string): Promise<Buffer> {
      return deps.views
        ? deps.views.get(`environment\0${appName}\0${envName}`, () =>
            bodyOf(this.getEnvironment(appName, envName), serialize),
          )
        : bodyOf(this.getEnvironment(appName, envName), serialize);
    },
  };
}
/** The serialised body of a view. */
async function bodyOf(view: Promise<unknown>, serialize: (v: unknown) => string): Promise<Buffer> {
  return Buffer.from(serialize(await view));
}
export type CatalogService = ReturnType<typeof createCatalogService>;
