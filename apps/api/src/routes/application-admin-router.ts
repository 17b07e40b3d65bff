import {
  ApplicationConfig,
  CreateApplicationBody,
  Environment,
  EnvParams,
  ErrorEnvelope,
  UpdateEnvironmentSettingsBody,
} from '@qubot/api-contract';
import type { FastifyInstance } from 'fastify';

const errors = {
  400: ErrorEnvelope,
  401: ErrorEnvelope,
  403: ErrorEnvelope,
  404: ErrorEnvelope,
  409: ErrorEnvelope,
};

export default async function applicationAdminRouter(app: FastifyInstance) {
  const { applicationAdmin } = app.services;
  app.post<{ Body: CreateApplicationBody }>(
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
  app.patch<{ Params: { app: string; env: string }; Body: UpdateEnvironmentSettingsBody }>(
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
