import type { Deployment, RollbackBody } from '@qubot/api-contract';
import { type DeploymentState, planRollback } from '@qubot/core';
import type { DeploymentWriteRepo, ReleaseRepo } from '@qubot/db';
import { AppError } from '../lib/app-error.ts';
import { requirePermission } from '../lib/permissions.ts';
import type { RequestContext } from '../lib/request-context.ts';
import type { CatalogService } from './catalog-service.ts';
import type { DeploymentCommandService } from './deployment-command-service.ts';
import { requireReason } from './require-reason.ts';

/**
 * POST /apps/:app/environments/:env/rollback. During a deployment: roll that deployment back.
 * Otherwise: a new (blue-green) deployment of the previous successful release — an instant
 * switch back when the old colour is still warm.
 */
export function createRollbackService(deps: {
  deployments: Pick<DeploymentWriteRepo, 'findActive' | 'history'>;
  releases: Pick<ReleaseRepo, 'find'>;
  catalog: Pick<CatalogService, 'requireEnvironment'>;
  commands: Pick<DeploymentCommandService, 'launch' | 'snapshot' | 'act'>;
}) {
  const writes = deps.deployments;
  return {
    async rollback(
      ctx: RequestContext,
      appName: string,
      envName: string,
      body: RollbackBody,
    ): Promise<Deployment> {
      const { app, env } = await deps.catalog.requireEnvironment(appName, envName);
      const scope = { application: app.name, environment: { name: env.name, protected: env.protected } };
      requirePermission(ctx, 'rollback', scope);
      const reason = env.protected
        ? requireReason(body.reason, `${env.name} is a protected environment`)
        : (body.reason ?? null);
      const active = await writes.findActive(env.id);
      if (active) {
        const s = active.state as unknown as DeploymentState;
        if (body.version && body.version !== s.input.fromVersion) {
          throw AppError.conflict(
            `a deployment is in progress: it can only be rolled back to ${s.input.fromVersion ?? 'nothing'}`,
            { field: 'body.version', reason: 'active_deployment', activeDeploymentId: active.id },
          );
        }
        return deps.commands.act(ctx, active.id, 'rollback', reason, {
          action: 'environment.rollback',
          target: `${app.name}/${env.name}`,
        });
      }
      if (body.version) {
        const exists = await deps.releases.find(app.id, body.version);
        if (!exists)
          throw AppError.badField('body.version', `unknown version "${body.version}" of ${app.name}`);
      }
      const snap = await deps.commands.snapshot(env.id);
      const history = (await writes.history(env.id)).map((d) => ({
        id: d.id,
        version: d.release.version,
        status: d.status,
        finishedAt: d.finishedAt?.toISOString() ?? null,
      }));
      const plan = planRollback(
        {
          activeColor: snap.activeColor,
          liveVersion: snap.liveVersion,
          replicas: snap.replicas,
          pools: snap.pools,
        },
        history,
        body.version ?? null,
      );
      if (!plan.ok) throw AppError.conflict(plan.message, { reason: plan.code });
      const liveDeployment = history.find((d) => d.status === 'succeeded' && d.version === snap.liveVersion);
      return deps.commands.launch(
        ctx,
        app.name,
        env.name,
        {
          kind: 'rollback',
          version: plan.version,
          strategy: plan.strategy,
          options: plan.options,
          reason,
          rollbackOfId: liveDeployment?.id ?? null,
          auditAction: 'environment.rollback',
          auditExtra: { mode: plan.mode, from: snap.liveVersion },
        },
        { override: body.overrideFreeze },
      );
    },
  };
}
export type RollbackService = ReturnType<typeof createRollbackService>;
