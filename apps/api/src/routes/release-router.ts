import { AppParams, CreateReleaseBody, ListOf, Name, PageQuery, Release, strict } from '@qubot/api-contract';
import type { FastifyInstance } from 'fastify';
import Type from 'typebox';
import { errorResponses, sendRaw, typed } from './route-kit.ts';

const errors = errorResponses(400, 401, 403, 404, 409);
const VersionParams = Type.Object(
  { app: Name, version: Type.String({ minLength: 1, maxLength: 64 }) },
  strict,
);

export default async function releaseRouter(parent: FastifyInstance) {
  const app = typed(parent);
  const { releases } = app.services;
  app.get(
    '/apps/:app/releases',
    {
      onRequest: app.authenticate,
      schema: {
        tags: ['releases'],
        summary: 'Releases, newest first',
        params: AppParams,
        querystring: PageQuery,
        response: { 200: ListOf(Release), ...errors },
      },
    },
    async (request, reply) => {
      const body = await releases.listBody(request.params.app, request.query, (v) =>
        String(reply.serialize(v)),
      );
      return sendRaw(reply.type('application/json; charset=utf-8'), body);
    },
  );
  app.get(
    '/apps/:app/releases/:version',
    {
      onRequest: app.authenticate,
      schema: {
        tags: ['releases'],
        summary: 'One release, with where it is deployed',
        params: VersionParams,
        response: { 200: Release, ...errors },
      },
    },
    async (request) => releases.get(request.params.app, request.params.version),
  );
  app.post(
    '/apps/:app/releases',
    {
      onRequest: app.authenticate,
      schema: {
        tags: ['releases'],
        summary: 'Register a release (from CI)',
        description:
          '201 when created; 200 with the existing release when the same version and artifact are sent again.',
        params: AppParams,
        body: CreateReleaseBody,
        response: { 200: Release, 201: Release, ...errors },
      },
    },
    async (request, reply) => {
      const res = await releases.create(request.ctx(), request.params.app, request.body);
      return reply.status(res.created ? 201 : 200).send(res.release);
    },
  );
}
