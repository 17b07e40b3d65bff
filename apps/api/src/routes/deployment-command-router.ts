import {
  CreateDeploymentBody,
  Deployment,
  DeploymentActionBody,
  type DeploymentActionName,
  EnvParams,
  IdempotencyHeaders,
  IdParams,
  RedeployBody,
} from '@qubot/api-contract';
import type { FastifyInstance } from 'fastify';
import { sendIdempotent } from './idempotent.ts';
import { errorResponses, typed } from './route-kit.ts';

const errors = errorResponses(400, 401, 403, 404, 409);
const ACTIONS: { action: DeploymentActionName; summary: string }[] = [
  { action: 'pause', summary: 'Pause at the next step boundary' },
  { action: 'resume', summary: 'Resume a paused deployment' },
  { action: 'abort', summary: 'Abort and return to the release that was live' },
  { action: 'advance', summary: 'Switch traffic (blue-green), go to the next canary step or batch' },
  { action: 'approve', summary: 'Approve a deployment waiting for approval (a second person)' },
];

export default async function deploymentCommandRouter(parent: FastifyInstance) {
  const app = typed(parent);
  const { deploymentCommands, idempotency } = app.services;
  app.post(
    '/apps/:app/environments/:env/deployments',
    {
      onRequest: app.authenticate,
      schema: {
        tags: ['deployments'],
        summary: 'Deploy a release to an environment',
        description:
          '202 with the deployment; the orchestrator runs it. 409 when the environment already has an active deployment. Options: docs/deployments.md.',
        params: EnvParams,
        headers: IdempotencyHeaders,
        body: CreateDeploymentBody,
        response: { 202: Deployment, ...errors },
      },
    },
    async (request, reply) =>
      sendIdempotent(idempotency, request, reply, async () => ({
        status: 202,
        body: await deploymentCommands.create(
          request.ctx(),
          request.params.app,
          request.params.env,
          request.body,
        ),
      })),
  );
  app.post(
    '/deployments/:id/redeploy',
    {
      onRequest: app.authenticate,
      schema: {
        tags: ['deployments'],
        summary: 'Deploy again what a past deployment shipped',
        description:
          'A new deployment (202) of the same release to the same environment with the same strategy, options and configuration version; audited `deployment.redeploy`. The rules of a deploy apply.',
        params: IdParams,
        headers: IdempotencyHeaders,
        body: RedeployBody,
        response: { 202: Deployment, ...errors },
      },
    },
    async (request, reply) =>
      sendIdempotent(idempotency, request, reply, async () => ({
        status: 202,
        body: await deploymentCommands.redeploy(request.ctx(), request.params.id, request.body ?? {}),
      })),
  );
  for (const { action, summary } of ACTIONS) {
    app.post(
      `/deployments/:id/${action}`,
      {
        onRequest: app.authenticate,
        schema: {
          tags: ['deployments'],
          summary,
          params: IdParams,
          headers: IdempotencyHeaders,
          body: DeploymentActionBody,
          response: { 200: Deployment, ...errors },
        },
      },
      async (request, reply) =>
        sendIdempotent(idempotency, request, reply, async () => ({
          status: 200,
          body: await deploymentCommands.control(
            request.ctx(),
            request.params.id,
            action,
            request.body?.reason ?? null,
          ),
        })),
    );
  }
}
