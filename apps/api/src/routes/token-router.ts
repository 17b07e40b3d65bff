import { ApiToken, CreatedToken, CreateTokenBody, IdParams, ListOf } from '@qubot/api-contract';
import type { FastifyInstance } from 'fastify';
import { errorResponses, typed } from './route-kit.ts';

const errors = errorResponses(400, 401, 403, 404);

export default async function tokenRouter(parent: FastifyInstance) {
  const app = typed(parent);
  const { tokens } = app.services;
  app.get(
    '/tokens',
    {
      onRequest: app.authenticate,
      schema: {
        tags: ['tokens'],
        summary: 'API tokens (admin); secrets are never shown again',
        response: { 200: ListOf(ApiToken), ...errors },
      },
    },
    async (request) => tokens.list(request.ctx()),
  );
  app.post(
    '/tokens',
    {
      onRequest: app.authenticate,
      schema: {
        tags: ['tokens'],
        summary: 'Create an API token (admin); the secret is in this response only',
        body: CreateTokenBody,
        response: { 201: CreatedToken, ...errors },
      },
    },
    async (request, reply) => reply.status(201).send(await tokens.create(request.ctx(), request.body)),
  );
  app.delete(
    '/tokens/:id',
    {
      onRequest: app.authenticate,
      schema: {
        tags: ['tokens'],
        summary: 'Revoke an API token (admin); takes effect on its next request',
        params: IdParams,
        response: { 200: ApiToken, ...errors },
      },
    },
    async (request) => tokens.revoke(request.ctx(), request.params.id),
  );
}
