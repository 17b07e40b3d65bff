import type { DoraReport, PrometheusTargets } from '@qubot/api-contract';
import type { MetricRepo } from '@qubot/db';
import { instanceTarget } from '@qubot/runtime';
import { canReadApplication, requirePermission } from '../lib/permissions.ts';
import type { RequestContext } from '../lib/request-context.ts';
import { dayOffset, doraReportView } from '../views/dora-view.ts';
import type { CatalogService } from './catalog-service.ts';

/**
 * Where the routers' metrics endpoints are: they listen on the worker's loopback, so a Prometheus
 * scraping them runs beside the worker (docs/monitoring.md). Instances are scraped at the address
 * their runtime driver gave them (stored on the instance row).
 */
export const TARGET_HOST = '127.0.0.1';
/** Days of rollup the DORA report reads: the 90-day window and the 90 days before it (trend). */
const DORA_READ_DAYS = 180;

/** Prometheus service discovery and the DORA figures (docs/monitoring.md). */
export function createMonitoringService(deps: {
  metrics: Pick<MetricRepo, 'targets' | 'dora' | 'environmentsOf'>;
  catalog: Pick<CatalogService, 'requireApp'>;
  now?: () => number;
}) {
  const now = deps.now ?? Date.now;
  return {
    /**
     * `http_sd_config` answer: one group per router and per live instance. Any reader may ask; an
     * application-scoped token sees only its applications.
     */
    async prometheusTargets(ctx: Pick<RequestContext, 'actor'>): Promise<PrometheusTargets> {
      requirePermission(ctx, 'read');
      const { routers, instances } = await deps.metrics.targets();
      const readable = (a: string) => canReadApplication(ctx.actor, a);
      return [
        ...routers
          .filter((r) => readable(r.application))
          .map((r) => ({
            targets: [`${TARGET_HOST}:${r.port}`],
            labels: {
              __metrics_path__: '/metrics',
              qubot_component: 'router',
              application: r.application,
              environment: r.environment,
            },
          })),
        ...instances
          .filter((i) => readable(i.application))
          .map((i) => ({
            targets: [instanceTarget(i)],
            labels: {
              __metrics_path__: '/metrics',
              qubot_component: 'instance',
              application: i.application,
              environment: i.environment,
              pool: i.pool,
              version: i.version,
            },
          })),
      ];
    },

    /** DORA figures of every environment of an application, 7/30/90 days with trend and daily points. */
    async dora(ctx: Pick<RequestContext, 'actor'>, appName: string): Promise<DoraReport> {
      requirePermission(ctx, 'read', { application: appName });
      const app = await deps.catalog.requireApp(appName);
      const t = now();
      const [envs, rows] = await Promise.all([
        deps.metrics.environmentsOf(app.id),
        deps.metrics.dora(app.id, dayOffset(t, DORA_READ_DAYS)),
      ]);
      return doraReportView(app.name, envs, rows, t);
    },
  };
}
export type MonitoringService = ReturnType<typeof createMonitoringService>;
