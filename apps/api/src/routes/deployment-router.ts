import { Deployment, DeploymentListQuery, IdParams, ListOf } from '@qubot/api-contract';
import type { FastifyInstance } from 'fastify';
import { AppError, ErrorCode } from '../lib/app-error.ts';
import { canReadApplication } from '../lib/permissions.ts';
import { errorResponses, sendRaw, typed } from './route-kit.ts';

const errors = errorResponses(400, 401, 403, 404);

export default async function deploymentRouter(parent: FastifyInstance) {
  const app = typed(parent);
  const { deploymentQueries } = app.services;
  app.get(
    '/deployments',
    {
      onRequest: app.authenticate,
      schema: {
        tags: ['deployments'],
        summary: 'Deployment history, newest first, with filters',
        querystring: DeploymentListQuery,
        response: { 200: ListOf(Deployment), ...errors },
      },
    },
    async (request, reply) => {
      // An application-scoped token lists only its applications' deployments: it must name one.
      const scope = request.actor.applications ?? [];
      if (scope.length > 0 && (!request.query.app || !scope.includes(request.query.app)))
        throw new AppError(
          ErrorCode.Forbidden,
          `forbidden: this token is limited to ${scope.join(', ')}; pass ?app= with one of them`,
        );
      const body = await deploymentQueries.listBody(request.query, (v) => String(reply.serialize(v)));
      return sendRaw(reply.type('application/json; charset=utf-8'), body);
    },
  );
  app.get(
    '/deployments/:id',
    {
      onRequest: app.authenticate,
      schema: {
        tags: ['deployments'],
        summary: 'One deployment with steps, progress and analysis',
        params: IdParams,
        response: { 200: Deployment, ...errors },
      },
    },
    async (request) => {
      const deployment = await deploymentQueries.get(request.params.id);
      if (!canReadApplication(request.actor, deployment.application))
        throw AppError.notFound(`deployment ${request.params.id}`, { field: 'params.id' });
      return deployment;
    },
  );
}
