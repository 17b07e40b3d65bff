import { Environment, EnvParams, SyntheticLoadBody } from '@qubot/api-contract';
import type { FastifyInstance } from 'fastify';
import { errorResponses, typed } from './route-kit.ts';

const errors = errorResponses(400, 401, 403, 404, 409);

export default async function syntheticLoadRouter(parent: FastifyInstance) {
  const app = typed(parent);
  const { syntheticLoad } = app.services;
  app.put(
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
    async (request) => syntheticLoad.set(request.ctx(), request.params.app, request.params.env, request.body),
  );
}
