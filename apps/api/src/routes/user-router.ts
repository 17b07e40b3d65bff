import {
  CreateUserBody,
  IdParams,
  ListOf,
  UpdateUserBody,
  User,
  UserWithPassword,
} from '@qubot/api-contract';
import type { FastifyInstance } from 'fastify';
import { errorResponses, typed } from './route-kit.ts';

const errors = errorResponses(400, 401, 403, 404, 409);

export default async function userRouter(parent: FastifyInstance) {
  const app = typed(parent);
  const { users } = app.services;
  app.get(
    '/users',
    {
      onRequest: app.authenticate,
      schema: { tags: ['users'], summary: 'Users (admin)', response: { 200: ListOf(User), ...errors } },
    },
    async (request) => users.list(request.ctx()),
  );
  app.post(
    '/users',
    {
      onRequest: app.authenticate,
      schema: {
        tags: ['users'],
        summary: 'Create a user (admin); without a password, a one-time password is returned once',
        body: CreateUserBody,
        response: { 201: UserWithPassword, ...errors },
      },
    },
    async (request, reply) => reply.status(201).send(await users.create(request.ctx(), request.body)),
  );
  app.patch(
    '/users/:id',
    {
      onRequest: app.authenticate,
      schema: {
        tags: ['users'],
        summary: 'Change role, disable, unlock or reset the password of a user (admin)',
        params: IdParams,
        body: UpdateUserBody,
        response: { 200: UserWithPassword, ...errors },
      },
    },
    async (request) => users.update(request.ctx(), request.params.id, request.body),
  );
}
