// Where an environment's instances run (DESIGN §4): `runtimeTarget` local (this machine) or
// kubernetes (a namespace of a cluster, docs/kubernetes.md), and the application's pod template —
// the Kubernetes runtime's launcher. Admin settings, audited, announced like any environment
// change. Credentials are named by where they are (the worker's service account, a kubeconfig
// path), never stored or shown themselves.
import type {
  Environment,
  PodTemplateView,
  UpdatePodTemplateBody,
  UpdateRuntimeTargetBody,
} from '@qubot/api-contract';
import {
  type ApplicationRepo,
  appendAudit,
  type DeploymentWriteRepo,
  type EnvironmentRepo,
  Prisma,
  type Transact,
} from '@qubot/db';
import { AppError } from '../lib/app-error.ts';
import { requirePermission } from '../lib/permissions.ts';
import type { RequestContext } from '../lib/request-context.ts';
import { appendEnvironmentUpdated } from '../views/environment-events.ts';
import { type KubernetesSettings, runtimeTargetView } from '../views/runtime-target-view.ts';
import { environmentView } from '../views/views.ts';
import type { CatalogService } from './catalog-service.ts';
import { requireQuietEnvironment } from './quiet-environment.ts';
import { requireReason } from './require-reason.ts';

export function createRuntimeTargetService(deps: {
  transact: Transact;
  catalog: Pick<CatalogService, 'requireEnvironment' | 'requireApp'>;
  applications: Pick<ApplicationRepo, 'lockPodTemplate' | 'setPodTemplate'>;
  environments: Pick<EnvironmentRepo, 'findView' | 'lock' | 'update'>;
  deploymentWrites: Pick<DeploymentWriteRepo, 'findActive' | 'hasOpenWork'>;
}) {
  const { transact } = deps;

  /** The target-specific settings of a body, checked (400 naming the field). */
  function settingsOf(body: UpdateRuntimeTargetBody): KubernetesSettings | null {
    if (body.target === 'local') {
      for (const f of ['namespace', 'credentials', 'gateway'] as const) {
        if (body[f] !== undefined)
          throw AppError.badField(`body.${f}`, `${f} is a setting of the kubernetes target`);
      }
      return null;
    }
    if (!body.namespace) throw AppError.badField('body.namespace', 'the kubernetes target needs a namespace');
    if (!body.credentials) {
      throw AppError.badField(
        'body.credentials',
        'the kubernetes target needs credentials: { "source": "in-cluster" } or { "source": "kubeconfig", "path": "/…" }',
      );
    }
    if (body.credentials.source === 'kubeconfig' && body.credentials.path.split('/').includes('..')) {
      throw AppError.badField('body.credentials.path', 'an absolute path without ".." segments');
    }
    return { namespace: body.namespace, credentials: body.credentials, gateway: body.gateway ?? null };
  }

  return {
    /** PUT /apps/:app/environments/:env/runtime — admin. 409 while a deployment has work to do there. */
    async setTarget(
      ctx: RequestContext,
      appName: string,
      envName: string,
      body: UpdateRuntimeTargetBody,
    ): Promise<Environment> {
      const { app, env } = await deps.catalog.requireEnvironment(appName, envName);
      requirePermission(ctx, 'settings.manage', {
        application: app.name,
        environment: { name: env.name, protected: env.protected },
      });
      const kubernetes = settingsOf(body);
      await transact(async (tx) => {
        // Serialised with deployments and every other change on the environment's row.
        const before = await deps.environments.lock(env.id, tx);
        const was = runtimeTargetView(before);
        const next = runtimeTargetView({ runtimeTarget: body.target, kubernetes });
        if (JSON.stringify(was) === JSON.stringify(next)) return;
        // Placement on enrolled hosts is a choice within the local target (docs/hosts.md).
        if (body.target === 'kubernetes' && before.placement === 'hosts')
          throw AppError.badField(
            'body.target',
            `${env.name} places its instances on enrolled hosts (placement "hosts"): set its placement to "local" first`,
          );
        // Instances are where the target says: moving it under a rollout (or a colour kept warm
        // for rollback) would leave them behind, unmanaged.
        await requireQuietEnvironment(deps.deploymentWrites, tx, env, {
          field: 'body.target',
          what: 'where instances run',
          openWork: true,
        });
        if (before.protected) requireReason(body.reason, `${env.name} is a protected environment`);
        await deps.environments.update(
          env.id,
          {
            runtimeTarget: body.target,
            kubernetes: kubernetes ? (kubernetes as unknown as Prisma.InputJsonValue) : Prisma.DbNull,
          },
          tx,
        );
        await appendAudit(tx, {
          ...ctx.auditFields(),
          action: 'environment.runtime_target',
          targetType: 'environment',
          targetId: env.id,
          target: `${app.name}/${env.name}`,
          reason: body.reason?.trim() || null,
          before: was as unknown as Prisma.InputJsonValue,
          after: next as unknown as Prisma.InputJsonValue,
        });
        await appendEnvironmentUpdated(tx, { id: env.id, applicationId: app.id, name: env.name });
      });
      const row = await deps.environments.findView(app.id, env.name);
      if (!row)
        throw AppError.notFound(`environment "${env.name}" of "${app.name}"`, { field: 'params.env' });
      return environmentView(row);
    },

    /** PUT /apps/:app/pod-template — admin: what the Kubernetes runtime runs (never a command line). */
    async setPodTemplate(
      ctx: RequestContext,
      appName: string,
      body: UpdatePodTemplateBody,
    ): Promise<PodTemplateView> {
      const app = await deps.catalog.requireApp(appName);
      requirePermission(ctx, 'settings.manage', { application: app.name });
      const after = await transact(async (tx) => {
        const before = await deps.applications.lockPodTemplate(app.id, tx);
        if (JSON.stringify(before) === JSON.stringify(body.podTemplate)) return before;
        await deps.applications.setPodTemplate(app.id, body.podTemplate as Prisma.InputJsonValue | null, tx);
        await appendAudit(tx, {
          ...ctx.auditFields(),
          action: 'application.pod_template',
          targetType: 'application',
          targetId: app.id,
          target: app.name,
          reason: body.reason?.trim() || null,
          before: { podTemplate: before } as Prisma.InputJsonValue,
          after: { podTemplate: body.podTemplate } as Prisma.InputJsonValue,
        });
        return body.podTemplate;
      });
      return { application: app.name, podTemplate: (after ?? null) as PodTemplateView['podTemplate'] };
    },
  };
}
export type RuntimeTargetService = ReturnType<typeof createRuntimeTargetService>;
