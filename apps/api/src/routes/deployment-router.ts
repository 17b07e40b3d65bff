import { Deployment, DeploymentListQuery, ErrorEnvelope, IdParams, ListOf } from '@qubot/api-contract';
import type { FastifyInstance } from 'fastify';
import type Type from 'typebox';

const errors = { 400: ErrorEnvelope, 404: ErrorEnvelope };

export default async function deploymentRouter(app: FastifyInstance) {
  const { deploymentQueries } = app.services;
  app.get<{ Querystring: Type.Static<typeof DeploymentListQuery> }>(
    '/deployments',
    {
      schema: {
        tags: ['deployments'],
        summary: 'Deployment history, newest first, with filters',
        querystring: DeploymentListQuery,
        response: { 200: ListOf(Deployment), ...errors },
      },
    },
    async (request) => deploymentQueries.list(request.query),
  );
  app.get<{ Params: { id: string } }>(
    '/deployments/:id',
    {
      schema: {
        tags: ['deployments'],
        summary: 'One deployment with steps, progress and analysis',
        params: IdParams,
        response: { 200: Deployment, ...errors },
      },
    },
    async (request) => deploymentQueries.get(request.params.id),
  );
}
