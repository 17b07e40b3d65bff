// Application administration: register an application (its launcher and pipeline) and change an
// environment's protection and scale. Launchers are commands the worker runs (DESIGN §4), so only
// admins configure them; protection and approval guard production, so only admins change them.
import type {
  ApplicationConfig,
  CreateApplicationBody,
  Environment,
  Placement,
  UpdateEnvironmentSettingsBody,
} from '@qubot/api-contract';
import {
  type ApplicationRepo,
  appendAudit,
  appendEvent,
  type DeploymentWriteRepo,
  type EnvironmentRepo,
  type Prisma,
  TRANSACTION_MAX_WAIT_MS,
  type Transact,
} from '@qubot/db';
import { LauncherError, parseLauncher } from '@qubot/runtime';
import { AppError, ErrorCode } from '../lib/app-error.ts';
import type { OrchestratorPort } from '../lib/orchestrator-port.ts';
import { requirePermission } from '../lib/permissions.ts';
import type { RequestContext } from '../lib/request-context.ts';
import { appendEnvironmentUpdated } from '../views/environment-events.ts';
import { environmentView } from '../views/views.ts';
import type { CatalogService } from './catalog-service.ts';
import type { DeploymentCommandService } from './deployment-command-service.ts';
import { requireQuietEnvironment } from './quiet-environment.ts';
import { requireReason } from './require-reason.ts';

const DEFAULT_REPLICAS = 2;

type AppRow = Awaited<ReturnType<ApplicationRepo['create']>>;

export function applicationConfigView(a: AppRow): ApplicationConfig {
  return {
    id: a.id,
    name: a.name,
    description: a.description,
    launcher: a.launcher,
    launcherCwd: a.launcherCwd,
    healthPath: a.healthPath,
    smokePath: a.smokePath,
    versionHeader: a.versionHeader,
    environments: a.environments.map((e) => ({
      name: e.name,
      position: e.position,
      protected: e.protected,
      requiresApproval: e.requiresApproval,
      replicas: e.replicas,
    })),
    createdAt: a.createdAt.toISOString(),
  };
}

const isUniqueViolation = (err: unknown) => (err as { code?: string }).code === 'P2002';

/** The traffic providers an environment can be served by (`trafficProvider`). */
export type TrafficProviderName = 'node' | 'haproxy';

export function createApplicationAdminService(deps: {
  transact: Transact;
  applications: Pick<ApplicationRepo, 'create'>;
  catalog: Pick<CatalogService, 'requireEnvironment'>;
  environments: Pick<EnvironmentRepo, 'findView' | 'lock' | 'update' | 'findById'>;
  deploymentWrites: Pick<DeploymentWriteRepo, 'findActive' | 'hasOpenWork'>;
  /** A new replica count on a live environment is carried out now (a `scale` deployment). */
  deploymentCommands: Pick<DeploymentCommandService, 'scaleIn'>;
  orchestrator: Pick<OrchestratorPort, 'handoverRouter' | 'wake'>;
}) {
  const { transact } = deps;
  return {
    /** POST /apps — admin. 409 when the name is taken; 400 naming the field for a bad launcher. */
    async create(ctx: RequestContext, body: CreateApplicationBody): Promise<ApplicationConfig> {
      requirePermission(ctx, 'settings.manage');
      try {
        parseLauncher(body.launcher);
      } catch (err) {
        if (err instanceof LauncherError) throw AppError.badField('body.launcher', err.message);
        throw err;
      }
      const seen = new Set<string>();
      for (const [i, e] of body.environments.entries()) {
        if (seen.has(e.name))
          throw AppError.badField(`body.environments[${i}].name`, `${e.name} is listed twice`);
        seen.add(e.name);
      }
      try {
        const row = await transact(async (tx) => {
          const created = await deps.applications.create(
            {
              name: body.name,
              description: body.description?.trim() || null,
              launcher: body.launcher,
              launcherCwd: body.launcherCwd ?? null,
              ...(body.healthPath ? { healthPath: body.healthPath } : {}),
              ...(body.smokePath ? { smokePath: body.smokePath } : {}),
              versionHeader: body.versionHeader?.toLowerCase() ?? null,
              environments: body.environments.map((e, position) => ({
                name: e.name,
                position,
                protected: e.protected ?? false,
                requiresApproval: e.requiresApproval ?? false,
                replicas: e.replicas ?? DEFAULT_REPLICAS,
              })),
            },
            tx,
          );
          const view = applicationConfigView(created);
          await appendAudit(tx, {
            ...ctx.auditFields(),
            action: 'application.create',
            targetType: 'application',
            targetId: created.id,
            target: created.name,
            after: view as unknown as Prisma.InputJsonValue,
          });
          await appendEvent(tx, {
            type: 'application.created',
            applicationId: created.id,
            payload: view as unknown as Prisma.InputJsonValue,
          });
          return created;
        });
        return applicationConfigView(row);
      } catch (err) {
        if (isUniqueViolation(err))
          throw AppError.conflict(`application "${body.name}" already exists`, {
            field: 'body.name',
            reason: 'exists',
          });
        throw err;
      }
    },

    /**
     * PATCH /apps/:app/environments/:env/settings. Scale (`replicas`): release-manager; protection
     * and approval: admin — otherwise a release-manager could switch off the two-person rule and
     * then deploy alone. A new replica count scales a live environment now (docs/scaling.md): 409
     * while a deployment (or another scale) is active.
     */
    async updateEnvironmentSettings(
      ctx: RequestContext,
      appName: string,
      envName: string,
      body: UpdateEnvironmentSettingsBody,
    ): Promise<Environment> {
      const { app, env } = await deps.catalog.requireEnvironment(appName, envName);
      const scope = { application: app.name, environment: { name: env.name, protected: env.protected } };
      requirePermission(ctx, 'environment.scale', scope);
      if (
        body.protected !== undefined ||
        body.requiresApproval !== undefined ||
        body.analysisOnInconclusive !== undefined ||
        body.trafficProvider !== undefined ||
        body.placement !== undefined
      )
        requirePermission(ctx, 'settings.manage', scope);
      if (
        body.protected === undefined &&
        body.requiresApproval === undefined &&
        body.replicas === undefined &&
        body.analysisOnInconclusive === undefined &&
        body.trafficProvider === undefined &&
        body.placement === undefined
      )
        throw AppError.badField(
          'body',
          'give at least one of protected, requiresApproval, replicas, analysisOnInconclusive, trafficProvider, placement',
        );
      // Serialised with every other change to the environment (deployments, traffic) on its row;
      // what changes is decided from the row as locked, not as read before.
      const { handover, scaleId } = await transact(
        async (tx) => {
          const before = await deps.environments.lock(env.id, tx);
          const changes: {
            protected?: boolean;
            requiresApproval?: boolean;
            replicas?: number;
            analysisOnInconclusive?: 'fail' | 'wait' | null;
            trafficProvider?: TrafficProviderName;
            placement?: Placement;
          } = {};
          let handover = false;
          if (body.trafficProvider !== undefined && before.runtimeTarget === 'kubernetes') {
            throw AppError.badField(
              'body.trafficProvider',
              `${env.name} runs on kubernetes: the cluster routes its traffic (its Services and HTTPRoute), not a ${body.trafficProvider} router`,
            );
          }
          if (body.trafficProvider !== undefined && body.trafficProvider !== before.trafficProvider) {
            // A handover moves the address from one router process to another: nothing else may be
            // moving traffic meanwhile.
            if (before.routerStatus === 'handover') {
              throw AppError.conflict(
                `the traffic provider of ${env.name} is already being changed (to ${before.trafficProvider}); try again when it is done`,
                { field: 'body.trafficProvider', reason: 'handover_in_progress' },
              );
            }
            await requireQuietEnvironment(deps.deploymentWrites, tx, env, {
              field: 'body.trafficProvider',
              what: 'the traffic provider',
              openWork: true,
            });
            changes.trafficProvider = body.trafficProvider;
            // With a router running, the row says so until the new one serves (runtime.handoverFor);
            // without one, the next start simply uses the new provider.
            handover = before.routerPort !== null;
          } else if (body.trafficProvider !== undefined && before.routerStatus === 'handover') {
            // The same change again (a retry): make sure it gets finished.
            handover = true;
          }
          if (body.placement === 'hosts' && before.runtimeTarget === 'kubernetes')
            throw AppError.badField(
              'body.placement',
              `${env.name} runs on Kubernetes: placement on enrolled hosts applies to the local target only`,
            );
          if (body.placement !== undefined && body.placement !== before.placement) {
            // Instances are placed when a deployment starts them: not while one is doing so.
            await requireQuietEnvironment(deps.deploymentWrites, tx, env, {
              field: 'body.placement',
              what: 'where instances run',
              openWork: false,
            });
            changes.placement = body.placement;
          }
          if (body.protected !== undefined && body.protected !== before.protected)
            changes.protected = body.protected;
          if (body.requiresApproval !== undefined && body.requiresApproval !== before.requiresApproval)
            changes.requiresApproval = body.requiresApproval;
          const rescale = body.replicas !== undefined && body.replicas !== before.replicas;
          if (rescale && changes.trafficProvider) {
            throw AppError.badField(
              'body.replicas',
              'change replicas and trafficProvider in separate requests',
            );
          }
          if (
            body.analysisOnInconclusive !== undefined &&
            body.analysisOnInconclusive !== before.analysisOnInconclusive
          )
            changes.analysisOnInconclusive = body.analysisOnInconclusive;
          if (Object.keys(changes).length > 0) {
            if (before.protected) requireReason(body.reason, `${env.name} is a protected environment`);
            await deps.environments.update(
              env.id,
              { ...changes, ...(handover ? { routerStatus: 'handover' } : {}) },
              tx,
            );
            // The provider change is its own entry (it moves the address to another process).
            const { trafficProvider, placement, ...rest } = changes;
            const entries: {
              action: 'environment.settings' | 'environment.traffic_provider' | 'environment.placement';
              changed: object;
            }[] = [
              ...(Object.keys(rest).length > 0
                ? [{ action: 'environment.settings' as const, changed: rest }]
                : []),
              ...(trafficProvider
                ? [{ action: 'environment.traffic_provider' as const, changed: { trafficProvider } }]
                : []),
              ...(placement ? [{ action: 'environment.placement' as const, changed: { placement } }] : []),
            ];
            for (const e of entries) {
              await appendAudit(tx, {
                ...ctx.auditFields(),
                action: e.action,
                targetType: 'environment',
                targetId: env.id,
                target: `${app.name}/${env.name}`,
                reason: body.reason?.trim() || null,
                before: Object.fromEntries(
                  Object.keys(e.changed).map((k) => [k, before[k as keyof typeof changes]]),
                ) as Prisma.InputJsonValue,
                after: {
                  ...e.changed,
                  ...(e.action === 'environment.traffic_provider' ? { handover: handover } : {}),
                } as Prisma.InputJsonValue,
              });
            }
            await appendEnvironmentUpdated(tx, { id: env.id, applicationId: app.id, name: env.name });
          }
          let scaleId: string | null = null;
          if (rescale && body.replicas !== undefined) {
            if (before.protected) requireReason(body.reason, `${env.name} is a protected environment`);
            scaleId = await deps.deploymentCommands.scaleIn(
              ctx,
              tx,
              { app, locked: before },
              {
                replicas: body.replicas,
                reason: body.reason?.trim() || null,
                auditAction: 'environment.scale',
              },
            );
          }
          return { handover, scaleId };
        },
        { timeout: 10_000, maxWait: TRANSACTION_MAX_WAIT_MS },
      );
      if (scaleId) await deps.orchestrator.wake(scaleId);
      if (handover) {
        // Committed: a worker stops the old router and starts the new one on the same port.
        try {
          await deps.orchestrator.handoverRouter(env.id);
        } catch (err) {
          const now = await deps.environments.findById(env.id);
          const reverted = now?.trafficProvider !== body.trafficProvider;
          if (reverted) {
            await transact(async (tx) => {
              await appendAudit(tx, {
                ...ctx.auditFields(),
                action: 'environment.traffic_provider.reverted',
                targetType: 'environment',
                targetId: env.id,
                target: `${app.name}/${env.name}`,
                reason: (err as Error).message.slice(0, 500),
                before: { trafficProvider: body.trafficProvider ?? null },
                after: { trafficProvider: now?.trafficProvider ?? null },
              });
            }).catch(() => {});
          }
          throw new AppError(
            ErrorCode.Unavailable,
            reverted
              ? `the ${body.trafficProvider} traffic provider could not take over ${env.name}; ${now?.trafficProvider} serves it again (${(err as Error).message})`
              : `the handover of ${env.name} to ${body.trafficProvider} is not finished (${(err as Error).message}); a worker finishes it`,
            { field: 'body.trafficProvider', reason: reverted ? 'handover_reverted' : 'handover_pending' },
          );
        }
      }
      const row = await deps.environments.findView(app.id, env.name);
      if (!row)
        throw AppError.notFound(`environment "${env.name}" of "${app.name}"`, { field: 'params.env' });
      return environmentView(row);
    },
  };
}
export type ApplicationAdminService = ReturnType<typeof createApplicationAdminService>;
