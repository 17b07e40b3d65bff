import { AnalysisProviderView, EnvParams, PutAnalysisProviderBody } from '@qubot/api-contract';
import type { FastifyInstance } from 'fastify';
import { errorResponses, typed } from './route-kit.ts';

/** Where a canary's analysis reads its figures (docs/monitoring.md "Prometheus as the analysis source"). */
export default async function analysisProviderRouter(parent: FastifyInstance) {
  const app = typed(parent);
  const { analysisProvider } = app.services;
  const url = '/apps/:app/environments/:env/analysis-provider';
  app.get(
    url,
    {
      onRequest: app.authenticate,
      schema: {
        tags: ['environments'],
        summary: "Where the environment's canary analysis reads error rate, latency and request count",
        params: EnvParams,
        response: { 200: AnalysisProviderView, ...errorResponses(401, 403, 404) },
      },
    },
    async (request) => analysisProvider.get(request.ctx(), request.params.app, request.params.env),
  );
  app.put(
    url,
    {
      onRequest: app.authenticate,
      schema: {
        tags: ['environments'],
        summary:
          'Set the analysis provider: the router’s own figures, or Prometheus with PromQL templates (admin; audited)',
        description:
          'With `provider: "prometheus"` every measurement of a canary step runs the three templates (requests, errorRate, p95Seconds) for the new pool and for the stable pool, with {{app}}, {{env}}, {{pool}}, {{version}} and {{window}} filled in. Checked at save: the URL (http/https, no credentials) and each template (known placeholders only, {{pool}} in each) — 400 naming the field. A Prometheus that cannot be reached, or a query that fails, makes the measurement inconclusive (never a pass): the step holds up to its inconclusive limit, then the strategy’s onInconclusive applies. Audited `environment.analysis_provider`; a reason on protected environments.',
        params: EnvParams,
        body: PutAnalysisProviderBody,
        response: { 200: AnalysisProviderView, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) =>
      analysisProvider.put(request.ctx(), request.params.app, request.params.env, request.body),
  );
}
