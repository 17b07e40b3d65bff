import {
  Deployment,
  Environment,
  EnvParams,
  IdempotencyHeaders,
  PromoteBody,
  RollbackBody,
  TrafficBody,
} from '@qubot/api-contract';
import type { FastifyInstance } from 'fastify';
import { sendIdempotent } from './idempotent.ts';
import { errorResponses, typed } from './route-kit.ts';

// 503: the traffic router did not take a change (nothing changed), or the server is overloaded.
const errors = errorResponses(400, 401, 403, 404, 409, 503);

export default async function environmentActionRouter(parent: FastifyInstance) {
  const app = typed(parent);
  const { promotion, traffic, rollback, idempotency } = app.services;
  app.post(
    '/apps/:app/environments/:env/promote',
    {
      onRequest: app.authenticate,
      schema: {
        tags: ['environments'],
        summary: 'Deploy here the release that is live in the previous environment',
        description:
          '409 with the reason when the release has not succeeded in the environment before this one.',
        params: EnvParams,
        headers: IdempotencyHeaders,
        body: PromoteBody,
        response: { 202: Deployment, ...errors },
      },
    },
    async (request, reply) =>
      sendIdempotent(idempotency, request, reply, async () => ({
        status: 202,
        body: await promotion.promote(
          request.ctx(),
          request.params.app,
          request.params.env,
          request.body ?? {},
        ),
      })),
  );
  app.post(
    '/apps/:app/environments/:env/traffic',
    {
      onRequest: app.authenticate,
      schema: {
        tags: ['environments'],
        summary: 'Switch traffic to a colour, or set weights',
        description:
          'With a blue-green deployment waiting for its switch this performs the switch (202); with no deployment in progress it moves traffic between running colours (200).',
        params: EnvParams,
        headers: IdempotencyHeaders,
        body: TrafficBody,
        response: { 200: Environment, 202: Environment, ...errors },
      },
    },
    async (request, reply) =>
      sendIdempotent(idempotency, request, reply, async () => {
        const res = await traffic.setTraffic(
          request.ctx(),
          request.params.app,
          request.params.env,
          request.body,
        );
        return { status: res.status, body: res.environment };
      }),
  );
  app.post(
    '/apps/:app/environments/:env/rollback',
    {
      onRequest: app.authenticate,
      schema: {
        tags: ['environments'],
        summary: 'Roll back to the previous successful release (or `version`)',
        description:
          'During a deployment, rolls it back; otherwise starts a rollback deployment (an instant switch when the old colour is warm).',
        params: EnvParams,
        headers: IdempotencyHeaders,
        body: RollbackBody,
        response: { 202: Deployment, ...errors },
      },
    },
    async (request, reply) =>
      sendIdempotent(idempotency, request, reply, async () => ({
        status: 202,
        body: await rollback.rollback(
          request.ctx(),
          request.params.app,
          request.params.env,
          request.body ?? {},
        ),
      })),
  );
}
