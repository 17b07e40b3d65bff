import { Environment, EnvParams, ErrorEnvelope, SyntheticLoadBody } from '@qubot/api-contract';
import type { FastifyInstance } from 'fastify';
import { createSyntheticLoadService } from '../services/synthetic-load-service.ts';

const errors = {
  400: ErrorEnvelope,
  401: ErrorEnvelope,
  403: ErrorEnvelope,
  404: ErrorEnvelope,
  409: ErrorEnvelope,
};

export default async function syntheticLoadRouter(app: FastifyInstance) {
  const service = createSyntheticLoadService({
    db: app.db,
    catalog: app.services.catalog,
    environments: app.repos.environments,
  });
  app.put<{ Params: { app: string; env: string }; Body: SyntheticLoadBody }>(
    '/apps/:app/environments/:env/synthetic-load',
    {
      onRequest: app.authenticate,
      schema: {
        tags: ['environments'],
        summary:
          "Turn the demo's steady synthetic load on an environment's address on or off (release-manager; demo environments only, audited)",
        params: EnvParams,
        body: SyntheticLoadBody,
        response: { 200: Environment, ...errors },
      },
    },
    async (request) => service.set(request.ctx(), request.params.app, request.params.env, request.body),
  );
}
