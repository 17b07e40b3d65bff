// Where a canary's analysis reads its traffic figures, per environment (docs/monitoring.md
// "Prometheus as the analysis source"): the traffic provider's own window (the default) or a
// Prometheus with PromQL templates. An admin setting, validated at save, audited.
import {
  type AnalysisProviderView,
  PROMQL_PLACEHOLDERS,
  type PutAnalysisProviderBody,
} from '@qubot/api-contract';
import { appendAudit, type EnvironmentRepo, Prisma, type Transact } from '@qubot/db';
import { AppError } from '../lib/app-error.ts';
import { requirePermission } from '../lib/permissions.ts';
import type { RequestContext } from '../lib/request-context.ts';
import {
  DEFAULT_QUERY_TIMEOUT_SECONDS,
  prometheusSettingOf,
  prometheusSettingProblem,
} from '../orchestrator/prometheus-analysis.ts';
import { appendEnvironmentUpdated } from '../views/environment-events.ts';
import type { CatalogService } from './catalog-service.ts';
import { requireReason } from './require-reason.ts';

type Stored = { updatedBy?: string; updatedAt?: string } | null;

function viewOf(stored: unknown): AnalysisProviderView {
  const p = prometheusSettingOf(stored);
  const meta = (stored ?? null) as Stored;
  return {
    provider: p ? 'prometheus' : 'router',
    prometheus: p,
    placeholders: PROMQL_PLACEHOLDERS.map((name) => `{{${name}}}`),
    updatedBy: meta?.updatedBy ?? null,
    updatedAt: meta?.updatedAt ?? null,
  };
}

export function createAnalysisProviderService(deps: {
  transact: Transact;
  catalog: Pick<CatalogService, 'requireEnvironment'>;
  environments: Pick<EnvironmentRepo, 'lock' | 'update' | 'get'>;
}) {
  return {
    /** GET /apps/:app/environments/:env/analysis-provider */
    async get(ctx: RequestContext, appName: string, envName: string): Promise<AnalysisProviderView> {
      requirePermission(ctx, 'read', { application: appName });
      const { env } = await deps.catalog.requireEnvironment(appName, envName);
      return viewOf((await deps.environments.get(env.id)).analysisPrometheus);
    },

    /** PUT /apps/:app/environments/:env/analysis-provider — admin; the next measurement uses it. */
    async put(
      ctx: RequestContext,
      appName: string,
      envName: string,
      body: PutAnalysisProviderBody,
    ): Promise<AnalysisProviderView> {
      const { app, env } = await deps.catalog.requireEnvironment(appName, envName);
      requirePermission(ctx, 'settings.manage', {
        application: app.name,
        environment: { name: env.name, protected: env.protected },
      });
      if (body.provider === 'prometheus' && !body.prometheus)
        throw AppError.badField('body.prometheus', 'is required with provider "prometheus"');
      if (body.provider === 'router' && body.prometheus)
        throw AppError.badField('body.prometheus', 'only goes with provider "prometheus"');
      if (body.prometheus) {
        const problem = prometheusSettingProblem(body.prometheus);
        if (problem) throw AppError.badField(problem.field, problem.message);
      }
      const setting = body.prometheus
        ? {
            url: body.prometheus.url.replace(/\/+$/, ''),
            queries: body.prometheus.queries,
            timeoutSeconds: body.prometheus.timeoutSeconds ?? DEFAULT_QUERY_TIMEOUT_SECONDS,
          }
        : null;
      return deps.transact(async (tx) => {
        // The row lock serialises concurrent changes: each audit entry's `before` is what the
        // previous one left.
        const locked = await deps.environments.lock(env.id, tx);
        const before = prometheusSettingOf(locked.analysisPrometheus);
        if (JSON.stringify(before) === JSON.stringify(setting)) return viewOf(locked.analysisPrometheus);
        if (locked.protected) requireReason(body.reason, `${env.name} is a protected environment`);
        const stored = setting
          ? { ...setting, updatedBy: ctx.actor.name, updatedAt: new Date().toISOString() }
          : null;
        await deps.environments.update(
          env.id,
          { analysisPrometheus: stored ? (stored as Prisma.InputJsonValue) : Prisma.DbNull },
          tx,
        );
        await appendAudit(tx, {
          ...ctx.auditFields(),
          action: 'environment.analysis_provider',
          targetType: 'environment',
          targetId: env.id,
          target: `${app.name}/${env.name}`,
          reason: body.reason?.trim() || null,
          before: { provider: before ? 'prometheus' : 'router', prometheus: before } as Prisma.InputJsonValue,
          after: {
            provider: setting ? 'prometheus' : 'router',
            prometheus: setting,
          } as Prisma.InputJsonValue,
        });
        await appendEnvironmentUpdated(tx, { id: env.id, applicationId: app.id, name: env.name });
        return viewOf(stored);
      });
    },
  };
}
export type AnalysisProviderService = ReturnType<typeof createAnalysisProviderService>;
