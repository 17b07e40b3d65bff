// Live scaling and autoscaling (docs/scaling.md).
import {
  AutoscalePolicyBody,
  AutoscalePolicyResult,
  EnvParams,
  IdempotencyHeaders,
  PageQuery,
  ScaleBody,
  ScaleResult,
  ScalingDecisionList,
} from '@qubot/api-contract';
import type { FastifyInstance } from 'fastify';
import { sendIdempotent } from './idempotent.ts';
import { errorResponses, typed } from './route-kit.ts';

export default async function scalingRouter(parent: FastifyInstance) {
  const app = typed(parent);
  const { scaling, idempotency } = app.services;
  app.post(
    '/apps/:app/environments/:env/scale',
    {
      onRequest: app.authenticate,
      schema: {
        tags: ['environments'],
        summary: 'Scale the environment to `replicas` now',
        description:
          'On a live environment starts a `scale` deployment of the live release (202): new instances start, pass their health checks and join the live pool, or surplus ones are drained and stopped. With nothing live only the replica count changes (200). 409 while a deployment or another scale is active, or a rollback window is open.',
        params: EnvParams,
        headers: IdempotencyHeaders,
        body: ScaleBody,
        response: { 200: ScaleResult, 202: ScaleResult, ...errorResponses(400, 401, 403, 404, 409, 503) },
      },
    },
    async (request, reply) =>
      sendIdempotent(idempotency, request, reply, async () => {
        const res = await scaling.scale(request.ctx(), request.params.app, request.params.env, request.body);
        return { status: res.deployment ? 202 : 200, body: res };
      }),
  );
  app.get(
    '/apps/:app/environments/:env/autoscale',
    {
      onRequest: app.authenticate,
      schema: {
        tags: ['environments'],
        summary: "The environment's autoscaling policy (null when none)",
        params: EnvParams,
        response: { 200: AutoscalePolicyResult, ...errorResponses(401, 403, 404) },
      },
    },
    async (request) => scaling.getPolicy(request.ctx(), request.params.app, request.params.env),
  );
  app.put(
    '/apps/:app/environments/:env/autoscale',
    {
      onRequest: app.authenticate,
      schema: {
        tags: ['environments'],
        summary: 'Set the autoscaling policy (release-manager)',
        description:
          'min/max replicas, the metric (rps per instance from the traffic provider, or cpu % per instance) and its target, and the cooldown after a scale. `enabled: false` keeps the policy but stops the evaluator acting on it.',
        params: EnvParams,
        body: AutoscalePolicyBody,
        response: { 200: AutoscalePolicyResult, ...errorResponses(400, 401, 403, 404, 503) },
      },
    },
    async (request) => scaling.putPolicy(request.ctx(), request.params.app, request.params.env, request.body),
  );
  app.get(
    '/apps/:app/environments/:env/autoscale/decisions',
    {
      onRequest: app.authenticate,
      schema: {
        tags: ['environments'],
        summary: "The autoscaler's decisions, newest first (cursor-paginated)",
        params: EnvParams,
        querystring: PageQuery,
        response: { 200: ScalingDecisionList, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) =>
      scaling.listDecisions(request.ctx(), request.params.app, request.params.env, request.query),
  );
}
