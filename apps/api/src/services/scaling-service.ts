// Live scaling and autoscaling (docs/scaling.md). A new replica count on a live environment is
// carried out now by a `scale` deployment of the live release (deployment-command-service's
// scaleIn, under the environment's row lock: one winner against any deployment or other scale).
// The autoscaling policy is a row per environment; its decisions are appended by the evaluator
// (orchestrator/autoscaler.ts) and read here by keyset pages.
import type { AuditAction, AutoscalePolicyBody, ScaleResult, ScalingDecisionList } from '@qubot/api-contract';
import {
  type AutoscalePolicyRow,
  appendAudit,
  type EnvironmentRepo,
  InvalidCursorError,
  type Prisma,
  type ScalingDecisionRow,
  type ScalingRepo,
  TRANSACTION_MAX_WAIT_MS,
  type Transact,
} from '@qubot/db';
import { AppError } from '../lib/app-error.ts';
import type { OrchestratorPort } from '../lib/orchestrator-port.ts';
import { requirePermission } from '../lib/permissions.ts';
import type { RequestContext } from '../lib/request-context.ts';
import { appendEnvironmentUpdated } from '../views/environment-events.ts';
import { decisionView, policyView } from '../views/scaling-views.ts';
import type { CatalogService } from './catalog-service.ts';
import type { DeploymentCommandService } from './deployment-command-service.ts';
import { requireReason } from './require-reason.ts';

const TX = { timeout: 10_000, maxWait: TRANSACTION_MAX_WAIT_MS };

export function createScalingService(deps: {
  transact: Transact;
  environments: Pick<EnvironmentRepo, 'lock'>;
  scaling: ScalingRepo;
  catalog: Pick<CatalogService, 'requireEnvironment'>;
  deploymentCommands: Pick<DeploymentCommandService, 'scaleIn' | 'view'>;
  orchestrator: Pick<OrchestratorPort, 'wake'>;
}) {
  const { transact, scaling } = deps;

  /**
   * Scale to `replicas` now, in one transaction locked on the environment's row. `auditAction`:
   * `environment.scale` for a person, `environment.autoscale` for the evaluator (whose decision is
   * recorded in the same transaction by `decide`).
   */
  async function scaleTo(
    ctx: RequestContext,
    environmentId: string,
    appRef: { id: string; name: string },
    replicas: number,
    opts: {
      reason: string | null;
      auditAction: AuditAction;
      inTx?: (tx: Prisma.TransactionClient, id: string | null) => Promise<void>;
    },
  ): Promise<string | null> {
    const id = await transact(async (tx) => {
      const locked = await deps.environments.lock(environmentId, tx);
      if (locked.protected && ctx.actor.kind !== 'system') {
        requireReason(opts.reason, `${locked.name} is a protected environment`);
      }
      const created = await deps.deploymentCommands.scaleIn(
        ctx,
        tx,
        { app: appRef, locked },
        { replicas, reason: opts.reason, auditAction: opts.auditAction },
      );
      await opts.inTx?.(tx, created);
      return created;
    }, TX);
    if (id) await deps.orchestrator.wake(id);
    return id;
  }

  return {
    scaleTo,

    /** POST /apps/:app/environments/:env/scale (release-manager, like the replicas setting). */
    async scale(
      ctx: RequestContext,
      appName: string,
      envName: string,
      body: { replicas: number; reason?: string | undefined },
    ): Promise<ScaleResult> {
      const { app, env } = await deps.catalog.requireEnvironment(appName, envName);
      requirePermission(ctx, 'environment.scale', {
        application: app.name,
        environment: { name: env.name, protected: env.protected },
      });
      const id = await scaleTo(ctx, env.id, app, body.replicas, {
        reason: body.reason?.trim() || null,
        auditAction: 'environment.scale',
      });
      return { replicas: body.replicas, deployment: id ? await deps.deploymentCommands.view(id) : null };
    },

    async getPolicy(ctx: RequestContext, appName: string, envName: string) {
      const { app, env } = await deps.catalog.requireEnvironment(appName, envName);
      requirePermission(ctx, 'read', { application: app.name });
      const row = await scaling.findPolicy(env.id);
      return { policy: row ? policyView(row) : null };
    },

    /** PUT …/autoscale: release-manager (the same permission as the replica count), audited. */
    async putPolicy(ctx: RequestContext, appName: string, envName: string, body: AutoscalePolicyBody) {
      const { app, env } = await deps.catalog.requireEnvironment(appName, envName);
      requirePermission(ctx, 'environment.scale', {
        application: app.name,
        environment: { name: env.name, protected: env.protected },
      });
      if (body.minReplicas > body.maxReplicas) {
        throw AppError.badField('body.minReplicas', `must not exceed maxReplicas (${body.maxReplicas})`);
      }
      if (body.metric === 'cpu' && body.target > 100) {
        throw AppError.badField('body.target', 'is a CPU percent of one core for metric cpu: at most 100');
      }
      const row = await transact(async (tx) => {
        const locked = await deps.environments.lock(env.id, tx);
        if (locked.protected) requireReason(body.reason, `${env.name} is a protected environment`);
        const before = await scaling.findPolicy(env.id, tx);
        const saved = await scaling.upsertPolicy(
          env.id,
          {
            enabled: body.enabled,
            minReplicas: body.minReplicas,
            maxReplicas: body.maxReplicas,
            metric: body.metric,
            target: body.target,
            cooldownSeconds: body.cooldownSeconds,
            updatedBy: ctx.actor.name,
          },
          tx,
        );
        const fields = (p: AutoscalePolicyRow | null) =>
          p
            ? {
                enabled: p.enabled,
                minReplicas: p.minReplicas,
                maxReplicas: p.maxReplicas,
                metric: p.metric,
                target: p.target,
                cooldownSeconds: p.cooldownSeconds,
              }
            : null;
        await appendAudit(tx, {
          ...ctx.auditFields(),
          action: 'environment.autoscale_policy',
          targetType: 'environment',
          targetId: env.id,
          target: `${app.name}/${env.name}`,
          reason: body.reason?.trim() || null,
          before: fields(before) as Prisma.InputJsonValue,
          after: fields(saved) as Prisma.InputJsonValue,
        });
        await appendEnvironmentUpdated(tx, { id: env.id, applicationId: app.id, name: env.name });
        return saved;
      }, TX);
      return { policy: policyView(row) };
    },

    /** GET …/autoscale/decisions: newest first, keyset-paged on (at, id). */
    async listDecisions(
      ctx: RequestContext,
      appName: string,
      envName: string,
      q: { cursor?: string | undefined; limit?: number | undefined },
    ): Promise<ScalingDecisionList> {
      const { app, env } = await deps.catalog.requireEnvironment(appName, envName);
      requirePermission(ctx, 'read', { application: app.name });
      const limit = q.limit ?? 20;
      let rows: ScalingDecisionRow[];
      try {
        rows = await scaling.listDecisions(env.id, limit + 1, q.cursor);
      } catch (err) {
        if (err instanceof InvalidCursorError) throw AppError.badField('querystring.cursor', 'is malformed');
        throw err;
      }
      const page = rows.slice(0, limit);
      const last = page[page.length - 1];
      return {
        items: page.map(decisionView),
        nextCursor: rows.length > limit && last ? scaling.cursorAfter(last) : null,
      };
    },
  };
}
export type ScalingService = ReturnType<typeof createScalingService>;
