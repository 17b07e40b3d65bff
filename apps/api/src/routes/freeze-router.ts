import { CreateFreezeWindowBody, EnvParams, FreezeWindow, ListOf, Name, strict } from '@qubot/api-contract';
import type { FastifyInstance } from 'fastify';
import Type from 'typebox';
import { errorResponses, typed } from './route-kit.ts';

const errors = errorResponses(400, 401, 403, 404);
const WindowParams = Type.Object({ app: Name, env: Name, id: Type.String({ format: 'uuid' }) }, strict);

export default async function freezeRouter(parent: FastifyInstance) {
  const app = typed(parent);
  const { freeze } = app.services;
  app.get(
    '/apps/:app/environments/:env/freeze-windows',
    {
      onRequest: app.authenticate,
      schema: {
        tags: ['environments'],
        summary: "An environment's freeze windows (one-off and weekly), with whether each is active now",
        params: EnvParams,
        response: { 200: ListOf(FreezeWindow), ...errors },
      },
    },
    async (request) => freeze.list(request.ctx(), request.params.app, request.params.env),
  );
  app.post(
    '/apps/:app/environments/:env/freeze-windows',
    {
      onRequest: app.authenticate,
      schema: {
        tags: ['environments'],
        summary: 'Add a freeze window (release-manager): `startsAt`+`endsAt`, or a weekly `recurrence`',
        params: EnvParams,
        body: CreateFreezeWindowBody,
        response: { 201: FreezeWindow, ...errors },
      },
    },
    async (request, reply) =>
      reply
        .status(201)
        .send(await freeze.create(request.ctx(), request.params.app, request.params.env, request.body)),
  );
  app.delete(
    '/apps/:app/environments/:env/freeze-windows/:id',
    {
      onRequest: app.authenticate,
      schema: {
        tags: ['environments'],
        summary: 'Remove a freeze window (release-manager); returns what was removed',
        params: WindowParams,
        response: { 200: FreezeWindow, ...errors },
      },
    },
    async (request) =>
      freeze.remove(request.ctx(), request.params.app, request.params.env, request.params.id),
  );
}
