// Deployment hooks (docs/hooks.md): per-environment settings (which job runs before and after a
// deployment), the application's job launcher, and the runs a deployment made. The jobs
// themselves run in the worker (orchestrator/hooks.ts).
import type {
  EnvironmentHooks,
  HookRun,
  HookRunLog,
  PutHooksBody,
  PutJobLauncherBody,
} from '@qubot/api-contract';
import {
  type ApplicationRepo,
  appendAudit,
  type DeploymentRepo,
  type EnvironmentRepo,
  type HookRepo,
  type Prisma,
  type Transact,
} from '@qubot/db';
import { JOB_LAUNCHER_PLACEHOLDERS, LauncherError, parseLauncher, tailFile } from '@qubot/runtime';
import { AppError } from '../lib/app-error.ts';
import { canReadApplication, requirePermission } from '../lib/permissions.ts';
import type { RequestContext } from '../lib/request-context.ts';
import { appendEnvironmentUpdated } from '../views/environment-events.ts';
import type { CatalogService } from './catalog-service.ts';
import { requireReason } from './require-reason.ts';

type Setting = { job: string; timeoutSeconds: number } | null;

export function hooksOf(stored: unknown): { pre: Setting; post: Setting } {
  const h = (stored ?? {}) as Record<string, unknown>;
  const one = (v: unknown): Setting => {
    const s = v as { job?: unknown; timeoutSeconds?: unknown } | null | undefined;
    return s && typeof s.job === 'string' && typeof s.timeoutSeconds === 'number'
      ? { job: s.job, timeoutSeconds: s.timeoutSeconds }
      : null;
  };
  return { pre: one(h.pre), post: one(h.post) };
}

type RunRow = Awaited<ReturnType<HookRepo['listForDeployment']>>[number];
export function hookRunView(r: RunRow): HookRun {
  return {
    id: r.id,
    phase: r.phase === 'post' ? 'post' : 'pre',
    job: r.job,
    status: r.status as HookRun['status'],
    exitCode: r.exitCode,
    message: r.message,
    timeoutSeconds: Math.round(r.timeoutMs / 1000),
    startedAt: r.startedAt.toISOString(),
    finishedAt: r.finishedAt?.toISOString() ?? null,
  };
}

export function createHookService(deps: {
  transact: Transact;
  catalog: Pick<CatalogService, 'requireEnvironment' | 'requireApp'>;
  environments: Pick<EnvironmentRepo, 'lock' | 'update' | 'get'>;
  applications: Pick<ApplicationRepo, 'setJobLauncher' | 'findByName'>;
  deployments: Pick<DeploymentRepo, 'findSummary'>;
  hooks: HookRepo;
}) {
  const { transact } = deps;

  async function readableDeployment(ctx: RequestContext, id: string) {
    const d = await deps.deployments.findSummary(id);
    if (!d || !canReadApplication(ctx.actor, d.application.name))
      throw AppError.notFound(`deployment ${id}`, { field: 'params.id' });
    return d;
  }

  async function requireRun(ctx: RequestContext, deploymentId: string, runId: string) {
    // Who may read no log at all is told so before anything is looked up.
    requirePermission(ctx, 'logs.read');
    const d = await readableDeployment(ctx, deploymentId);
    const { env } = await deps.catalog.requireEnvironment(d.application.name, d.environment.name);
    // A hook's output is the application's output (a migration may print what it touches).
    requirePermission(ctx, 'logs.read', {
      application: d.application.name,
      environment: { name: env.name, protected: env.protected },
    });
    const run = await deps.hooks.findRun(deploymentId, runId);
    if (!run)
      throw AppError.notFound(`hook run ${runId} of deployment ${deploymentId}`, { field: 'params.runId' });
    return run;
  }

  return {
    /** GET /apps/:app/environments/:env/hooks */
    async get(ctx: RequestContext, appName: string, envName: string): Promise<EnvironmentHooks> {
      requirePermission(ctx, 'read', { application: appName });
      const { env } = await deps.catalog.requireEnvironment(appName, envName);
      const app = await deps.applications.findByName(appName);
      const row = await deps.environments.get(env.id);
      return { ...hooksOf(row.hooks), jobLauncherSet: !!app?.jobLauncher };
    },

    /**
     * PUT /apps/:app/environments/:env/hooks — admin: a hook runs a job on the worker's machine
     * with the environment's configuration (secrets included), so it is set like the launchers.
     */
    async put(
      ctx: RequestContext,
      appName: string,
      envName: string,
      body: PutHooksBody,
    ): Promise<EnvironmentHooks> {
      const { app, env } = await deps.catalog.requireEnvironment(appName, envName);
      requirePermission(ctx, 'settings.manage', {
        application: app.name,
        environment: { name: env.name, protected: env.protected },
      });
      const after = { pre: body.pre, post: body.post };
      await transact(async (tx) => {
        const locked = await deps.environments.lock(env.id, tx);
        const before = hooksOf(locked.hooks);
        if (JSON.stringify(before) === JSON.stringify(after)) return;
        if (locked.protected) requireReason(body.reason, `${env.name} is a protected environment`);
        await deps.environments.update(env.id, { hooks: after as unknown as Prisma.InputJsonValue }, tx);
        await appendAudit(tx, {
          ...ctx.auditFields(),
          action: 'environment.hooks',
          targetType: 'environment',
          targetId: env.id,
          target: `${app.name}/${env.name}`,
          reason: body.reason?.trim() || null,
          before: before as unknown as Prisma.InputJsonValue,
          after: after as unknown as Prisma.InputJsonValue,
        });
        await appendEnvironmentUpdated(tx, { id: env.id, applicationId: app.id, name: env.name });
      });
      return this.get(ctx, appName, envName);
    },

    /** PUT /apps/:app/job-launcher — admin, like the instance launcher (DESIGN §4). */
    async putJobLauncher(ctx: RequestContext, appName: string, body: PutJobLauncherBody) {
      requirePermission(ctx, 'settings.manage', { application: appName });
      const app = await deps.catalog.requireApp(appName);
      if (body.jobLauncher !== null) {
        try {
          parseLauncher(body.jobLauncher, JOB_LAUNCHER_PLACEHOLDERS);
        } catch (err) {
          if (err instanceof LauncherError) throw AppError.badField('body.jobLauncher', err.message);
          throw err;
        }
      }
      const current = await deps.applications.findByName(app.name);
      await transact(async (tx) => {
        await deps.applications.setJobLauncher(app.id, body.jobLauncher, tx);
        await appendAudit(tx, {
          ...ctx.auditFields(),
          action: 'application.job_launcher',
          targetType: 'application',
          targetId: app.id,
          target: app.name,
          before: { jobLauncher: current?.jobLauncher ?? null },
          after: { jobLauncher: body.jobLauncher },
        });
      });
      return { jobLauncher: body.jobLauncher };
    },

    /** GET /deployments/:id/hooks — oldest first. */
    async runs(ctx: RequestContext, deploymentId: string): Promise<{ items: HookRun[]; nextCursor: null }> {
      const d = await readableDeployment(ctx, deploymentId);
      const rows = await deps.hooks.listForDeployment(d.id);
      return { items: rows.map(hookRunView), nextCursor: null };
    },

    async runLog(ctx: RequestContext, deploymentId: string, runId: string, lines = 200): Promise<HookRunLog> {
      const run = await requireRun(ctx, deploymentId, runId);
      return { runId: run.id, job: run.job, lines: run.logPath ? await tailFile(run.logPath, lines) : [] };
    },

    /** The run's log file, for following (permission as runLog). */
    async runLogPath(ctx: RequestContext, deploymentId: string, runId: string): Promise<string | null> {
      return (await requireRun(ctx, deploymentId, runId)).logPath;
    },
  };
}
export type HookService = ReturnType<typeof createHookService>;
