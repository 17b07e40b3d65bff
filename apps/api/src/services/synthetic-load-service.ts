// The demo's synthetic load per environment (docs/deployments.md "Analysis"): on or off, audited,
// announced like any environment change. Only demo environments have one (the column is null
// elsewhere); the load itself is sent by the demo (demo.ts).
import type { Environment, SyntheticLoadBody } from '@qubot/api-contract';
import { appendAudit, type EnvironmentRepo, type Transact } from '@qubot/db';
import { AppError } from '../lib/app-error.ts';
import { requirePermission } from '../lib/permissions.ts';
import type { RequestContext } from '../lib/request-context.ts';
import { appendEnvironmentUpdated } from '../views/environment-events.ts';
import { environmentView } from '../views/views.ts';
import type { CatalogService } from './catalog-service.ts';

export function createSyntheticLoadService(deps: {
  transact: Transact;
  catalog: Pick<CatalogService, 'requireEnvironment'>;
  environments: Pick<EnvironmentRepo, 'findView' | 'lockSyntheticLoad' | 'update'>;
}) {
  const { transact } = deps;
  return {
    /** PUT /apps/:app/environments/:env/synthetic-load — release-manager (like scaling). */
    async set(
      ctx: RequestContext,
      appName: string,
      envName: string,
      body: SyntheticLoadBody,
    ): Promise<Environment> {
      const { app, env } = await deps.catalog.requireEnvironment(appName, envName);
      requirePermission(ctx, 'environment.scale', {
        application: app.name,
        environment: { name: env.name, protected: env.protected },
      });
      await transact(async (tx) => {
        // The row lock orders concurrent switches: each sees the one before it.
        const before = await deps.environments.lockSyntheticLoad(env.id, tx);
        if (before === null)
          throw AppError.conflict(
            `${app.name}/${env.name} has no synthetic load: it is a demo-mode feature (start with --demo)`,
            { field: 'params.env', reason: 'not_a_demo_environment' },
          );
        if (before === body.enabled) return;
        await deps.environments.update(env.id, { syntheticLoad: body.enabled }, tx);
        await appendAudit(tx, {
          ...ctx.auditFields(),
          action: 'environment.synthetic_load',
          targetType: 'environment',
          targetId: env.id,
          target: `${app.name}/${env.name}`,
          reason: body.reason?.trim() || null,
          before: { syntheticLoad: before },
          after: { syntheticLoad: body.enabled },
        });
        await appendEnvironmentUpdated(tx, { id: env.id, applicationId: app.id, name: env.name });
      });
      const row = await deps.environments.findView(app.id, env.name);
      if (!row)
        throw AppError.notFound(`environment "${env.name}" of "${app.name}"`, { field: 'params.env' });
      return environmentView(row);
    },
  };
}
export type SyntheticLoadService = ReturnType<typeof createSyntheticLoadService>;
