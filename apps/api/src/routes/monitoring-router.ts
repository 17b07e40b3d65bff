import { AppParams, DoraReport, PrometheusTargets } from '@qubot/api-contract';
import type { FastifyInstance } from 'fastify';
import { errorResponses, typed } from './route-kit.ts';

/** Prometheus service discovery and the DORA figures (docs/monitoring.md). */
export default async function monitoringRouter(parent: FastifyInstance) {
  const app = typed(parent);
  const { monitoring } = app.services;
  app.get(
    '/prometheus/targets',
    {
      onRequest: app.authenticate,
      schema: {
        tags: ['monitoring'],
        summary: 'Prometheus HTTP service discovery: every router and instance metrics endpoint',
        description:
          'The answer of a Prometheus `http_sd_config` (a bare array of target groups, not a list page): one group per environment router (`qubot_component="router"`, labels `application`, `environment`) and per live instance (`qubot_component="instance"`, plus `pool` and `version`). Needs a reader: give Prometheus a viewer API token as `Authorization: Bearer …`; a token limited to applications sees only theirs. docs/monitoring.md has the scrape configuration.',
        response: { 200: PrometheusTargets, ...errorResponses(401, 403) },
      },
    },
    async (request) => monitoring.prometheusTargets(request.ctx()),
  );
  app.get(
    '/apps/:app/dora',
    {
      onRequest: app.authenticate,
      schema: {
        tags: ['monitoring'],
        summary: "DORA figures of an application's environments over 7, 30 and 90 days, with trend",
        description:
          'Deployment frequency, lead time (release creation → success in the environment), change failure rate (failed or rolled back over finished, aborted excluded) and time to restore (a failed or rolled-back deployment → the next success), per environment, for each window and the window before it, plus one point per UTC day of the last 90 days. Read from a daily rollup kept as deployments finish, never from the history.',
        params: AppParams,
        response: { 200: DoraReport, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => monitoring.dora(request.ctx(), request.params.app),
  );
}
