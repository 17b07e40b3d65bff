import {
  ApiToken,
  CreatedToken,
  CreateTokenBody,
  ErrorEnvelope,
  IdParams,
  ListOf,
} from '@qubot/api-contract';
import type { FastifyInstance } from 'fastify';

const errors = { 400: ErrorEnvelope, 401: ErrorEnvelope, 403: ErrorEnvelope, 404: ErrorEnvelope };

export default async function tokenRouter(app: FastifyInstance) {
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
  app.post<{ Body: CreateTokenBody }>(
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
  app.delete<{ Params: { id: string } }>(
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
