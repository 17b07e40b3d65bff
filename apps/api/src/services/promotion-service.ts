import type { Deployment, PromoteBody } from '@qubot/api-contract';
import { previousEnvironment } from '@qubot/core';
import type { EnvironmentRepo } from '@qubot/db';
import { AppError } from '../lib/app-error.ts';
import { requirePermission } from '../lib/permissions.ts';
import type { RequestContext } from '../lib/request-context.ts';
import type { CatalogService } from './catalog-service.ts';
import type { DeploymentCommandService } from './deployment-command-service.ts';
import { requireReason } from './require-reason.ts';

/** POST /apps/:app/environments/:env/promote — deploy here what is live in the environment before. */
export function createPromotionService(deps: {
  environments: Pick<EnvironmentRepo, 'pipeline'>;
  catalog: Pick<CatalogService, 'requireEnvironment'>;
  commands: Pick<DeploymentCommandService, 'launch' | 'snapshot'>;
}) {
  return {
    async promote(
      ctx: RequestContext,
      appName: string,
      envName: string,
      body: PromoteBody,
    ): Promise<Deployment> {
      const { app, env } = await deps.catalog.requireEnvironment(appName, envName);
      requirePermission(ctx, 'promote', {
        application: app.name,
        environment: { name: env.name, protected: env.protected },
      });
      if (env.protected) requireReason(body.reason, `${env.name} is a protected environment`);
      const pipeline = await deps.environments.pipeline(app.id);
      const prevName = previousEnvironment(pipeline, env.name);
      if (!prevName) {
        throw AppError.conflict(
          `${env.name} is the first environment: there is nothing to promote from; deploy a release instead`,
          {
            reason: 'first_environment',
          },
        );
      }
      const prev = pipeline.find((e) => e.name === prevName);
      const prevSnap = prev ? await deps.commands.snapshot(prev.id) : null;
      if (!prev || !prevSnap?.liveVersion || !prevSnap.liveReleaseId) {
        throw AppError.conflict(`nothing is live in ${prevName} to promote`, {
          reason: 'nothing_live',
          previous: prevName,
        });
      }
      const version = prevSnap.liveVersion;
      const active = prevSnap.activeColor ? prevSnap.pools[prevSnap.activeColor] : null;
      if (!active || active.healthy < 1) {
        throw AppError.conflict(`${version} is live in ${prevName} but not healthy there`, {
          reason: 'not_healthy',
          previous: prevName,
        });
      }
      const here = await deps.commands.snapshot(env.id);
      if (here.liveVersion === version) {
        throw AppError.conflict(`${version} is already live in ${env.name}`, { reason: 'already_live' });
      }
      return deps.commands.launch(
        ctx,
        app.name,
        env.name,
        {
          kind: 'promote',
          version,
          strategy: body.strategy ?? 'blue-green',
          options: body.options ?? {},
          reason: body.reason ?? null,
          // The promotion order and the verification gate are enforced by launch(), under the
          // environment's lock, for every path into the environment.
          overridePromotionOrder: body.override,
          auditAction: 'environment.promote',
          auditExtra: { from: prevName, ...(body.override ? { override: true } : {}) },
        },
        { override: body.overrideFreeze },
      );
    },
  };
}
export type PromotionService = ReturnType<typeof createPromotionService>;
