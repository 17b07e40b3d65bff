import { DeploymentEtaResponse, DeploymentLogEntry, IdParams, ListOf } from '@qubot/api-contract';
import type { FastifyInstance } from 'fastify';
import { errorResponses, typed } from './route-kit.ts';

const errors = errorResponses(400, 401, 403, 404);

/** A deployment's ETA and its log (docs/dashboard.md). */
export default async function deploymentObserveRouter(parent: FastifyInstance) {
  const app = typed(parent);
  app.get(
    '/deployments/:id/eta',
    {
      onRequest: app.authenticate,
      schema: {
        tags: ['deployments'],
        summary: 'When an active deployment should finish',
        description:
          'p90 of the durations of earlier succeeded deployments with the same strategy in the same environment; `eta` is null with fewer than 3 of them, or when the deployment is over.',
        params: IdParams,
        response: { 200: DeploymentEtaResponse, ...errors },
      },
    },
    async (request) => app.observe.eta(request.ctx(), request.params.id),
  );

  app.get(
    '/deployments/:id/events',
    {
      onRequest: app.authenticate,
      schema: {
        tags: ['deployments'],
        summary: "The deployment's log: its stored events as timestamped lines, oldest first",
        params: IdParams,
        response: { 200: ListOf(DeploymentLogEntry), ...errors },
      },
    },
    async (request) => app.observe.log(request.ctx(), request.params.id),
  );
}
