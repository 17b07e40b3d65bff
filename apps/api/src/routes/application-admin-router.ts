import {
  ApplicationConfig,
  CreateApplicationBody,
  Environment,
  EnvParams,
  UpdateEnvironmentSettingsBody,
} from '@qubot/api-contract';
import type { FastifyInstance } from 'fastify';
import { errorResponses, typed } from './route-kit.ts';

const errors = errorResponses(400, 401, 403, 404, 409);

export default async function applicationAdminRouter(parent: FastifyInstance) {
  const app = typed(parent);
  const { applicationAdmin } = app.services;
  app.post(
    '/apps',
    {
      onRequest: app.authenticate,
      schema: {
        tags: ['applications'],
        summary: 'Register an application with its launcher and environment pipeline (admin)',
        description:
          'The launcher is a command template the worker runs for each instance (docs/security.md); environments are created in the order given.',
        body: CreateApplicationBody,
        response: { 201: ApplicationConfig, ...errors },
      },
    },
    async (request, reply) =>
      reply.status(201).send(await applicationAdmin.create(request.ctx(), request.body)),
  );
  app.patch(
    '/apps/:app/environments/:env/settings',
    {
      onRequest: app.authenticate,
      schema: {
        tags: ['environments'],
        summary: "Change an environment's replicas (release-manager) or protection and approval (admin)",
        description: 'Applies to the next deployment; a deployment in progress keeps its settings.',
        params: EnvParams,
        body: UpdateEnvironmentSettingsBody,
        response: { 200: Environment, ...errors },
      },
    },
    async (request) =>
      applicationAdmin.updateEnvironmentSettings(
        request.ctx(),
        request.params.app,
        request.params.env,
        request.body,
      ),
  );
}
