import {
  AppParams,
  ConfigDiff,
  ConfigEnvironmentDiffQuery,
  ConfigVersion,
  ConfigVersionDiffQuery,
  ConfigVersionParams,
  EnvParams,
  ListOf,
  PageQuery,
  PromotionPreview,
  PutConfigBody,
} from '@qubot/api-contract';
import type { FastifyInstance } from 'fastify';
import { errorResponses, typed } from './route-kit.ts';

const errors = errorResponses(400, 401, 403, 404, 409);

export default async function configRouter(parent: FastifyInstance) {
  const app = typed(parent);
  const { config } = app.services;
  const base = '/apps/:app/environments/:env';

  app.get(
    `${base}/config`,
    {
      onRequest: app.authenticate,
      schema: {
        tags: ['config'],
        summary: "An environment's current configuration (secrets masked); version 0 when never set",
        params: EnvParams,
        response: { 200: ConfigVersion, ...errors },
      },
    },
    async (request) => config.current(request.ctx(), request.params.app, request.params.env),
  );
  app.put(
    `${base}/config`,
    {
      onRequest: app.authenticate,
      schema: {
        tags: ['config'],
        summary: 'Write the next configuration version (deployer; release-manager on protected environments)',
        description:
          'The full list of entries: keys left out are removed. A secret sent without a value, or with "••••••", keeps its stored value. 201 with the new version; 200 with the current one when nothing changed.',
        params: EnvParams,
        body: PutConfigBody,
        response: { 200: ConfigVersion, 201: ConfigVersion, ...errors },
      },
    },
    async (request, reply) => {
      const res = await config.put(request.ctx(), request.params.app, request.params.env, request.body);
      return reply.status(res.created ? 201 : 200).send(res.config);
    },
  );
  app.get(
    `${base}/config/versions`,
    {
      onRequest: app.authenticate,
      schema: {
        tags: ['config'],
        summary: 'Configuration versions, newest first',
        params: EnvParams,
        querystring: PageQuery,
        response: { 200: ListOf(ConfigVersion), ...errors },
      },
    },
    async (request) =>
      config.listVersions(request.ctx(), request.params.app, request.params.env, request.query),
  );
  app.get(
    `${base}/config/versions/:version`,
    {
      onRequest: app.authenticate,
      schema: {
        tags: ['config'],
        summary: 'One configuration version (secrets masked)',
        params: ConfigVersionParams,
        response: { 200: ConfigVersion, ...errors },
      },
    },
    async (request) =>
      config.getVersion(request.ctx(), request.params.app, request.params.env, request.params.version),
  );
  app.get(
    `${base}/config/diff`,
    {
      onRequest: app.authenticate,
      schema: {
        tags: ['config'],
        summary: 'Compare two configuration versions of an environment (0 = empty)',
        params: EnvParams,
        querystring: ConfigVersionDiffQuery,
        response: { 200: ConfigDiff, ...errors },
      },
    },
    async (request) =>
      config.diffVersions(
        request.ctx(),
        request.params.app,
        request.params.env,
        request.query.from,
        request.query.to,
      ),
  );
  app.get(
    '/apps/:app/config/diff',
    {
      onRequest: app.authenticate,
      schema: {
        tags: ['config'],
        summary: 'Compare the current configuration of two environments',
        params: AppParams,
        querystring: ConfigEnvironmentDiffQuery,
        response: { 200: ConfigDiff, ...errors },
      },
    },
    async (request) =>
      config.diffEnvironments(request.ctx(), request.params.app, request.query.from, request.query.to),
  );
  app.get(
    `${base}/promotion-preview`,
    {
      onRequest: app.authenticate,
      schema: {
        tags: ['config'],
        summary: 'What promoting into this environment would ship: versions, changelogs, config changes',
        params: EnvParams,
        response: { 200: PromotionPreview, ...errors },
      },
    },
    async (request) => config.promotionPreview(request.ctx(), request.params.app, request.params.env),
  );
}
