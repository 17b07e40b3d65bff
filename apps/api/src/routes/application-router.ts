import { Application, AppParams, Environment, EnvParams, ErrorEnvelope, ListOf } from '@qubot/api-contract';
import type { FastifyInstance } from 'fastify';

const errors = { 400: ErrorEnvelope, 404: ErrorEnvelope };

export default async function applicationRouter(app: FastifyInstance) {
  const { catalog } = app.services;
  app.get(
    '/apps',
    {
      schema: {
        tags: ['applications'],
        summary: 'List applications',
        response: { 200: ListOf(Application) },
      },
    },
    async () => catalog.listApplications(),
  );
  app.get<{ Params: { app: string } }>(
    '/apps/:app/environments',
    {
      schema: {
        tags: ['environments'],
        summary: "An application's environment pipeline, in order",
        params: AppParams,
        response: { 200: ListOf(Environment), ...errors },
      },
    },
    async (request) => catalog.listEnvironments(request.params.app),
  );
  app.get<{ Params: { app: string; env: string } }>(
    '/apps/:app/environments/:env',
    {
      schema: {
        tags: ['environments'],
        summary: 'One environment',
        params: EnvParams,
        response: { 200: Environment, ...errors },
      },
    },
    async (request) => catalog.getEnvironment(request.params.app, request.params.env),
  );
}
