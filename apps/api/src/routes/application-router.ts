import { Application, AppParams, Environment, EnvParams, ListOf } from '@qubot/api-contract';
import type { FastifyInstance } from 'fastify';
import { Gauge } from 'prom-client';
import { canReadApplication } from '../lib/permissions.ts';
import { errorResponses, sendRaw, typed } from './route-kit.ts';

const errors = errorResponses(400, 401, 403, 404);

export default async function applicationRouter(parent: FastifyInstance) {
  const app = typed(parent);
  const { catalog } = app.services;
  new Gauge({
    name: 'qubot_view_cache_reads',
    help: 'Pipeline reads answered from the view cache (hit) or built from the database (build), since start',
    labelNames: ['result'],
    registers: [app.metrics],
    collect() {
      const stats = catalog.viewCacheStats();
      if (!stats) return;
      this.set({ result: 'hit' }, stats.hits);
      this.set({ result: 'build' }, stats.builds);
    },
  });
  app.get(
    '/apps',
    {
      onRequest: app.authenticate,
      schema: {
        tags: ['applications'],
        summary: 'List applications',
        response: { 200: ListOf(Application) },
      },
    },
    async (request) => {
      const res = await catalog.listApplications();
      return { ...res, items: res.items.filter((a) => canReadApplication(request.actor, a.name)) };
    },
  );
  app.get(
    '/apps/:app/environments',
    {
      onRequest: app.authenticate,
      schema: {
        tags: ['environments'],
        summary: "An application's environment pipeline, in order",
        params: AppParams,
        response: { 200: ListOf(Environment), ...errors },
      },
    },
    async (request, reply) => {
      const body = await catalog.environmentsBody(request.params.app, (v) => String(reply.serialize(v)));
      return sendRaw(reply.type('application/json; charset=utf-8'), body);
    },
  );
  app.get(
    '/apps/:app/environments/:env',
    {
      onRequest: app.authenticate,
      schema: {
        tags: ['environments'],
        summary: 'One environment',
        params: EnvParams,
        response: { 200: Environment, ...errors },
      },
    },
    async (request, reply) => {
      const { app: appName, env } = request.params;
      const body = await catalog.environmentBody(appName, env, (v) => String(reply.serialize(v)));
      return sendRaw(reply.type('application/json; charset=utf-8'), body);
    },
  );
}
