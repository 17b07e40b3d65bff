// Configuration drift and parity (docs/configuration.md "Drift", "Parity") and deployment hooks
// (docs/hooks.md).
import {
  AppParams,
  ConfigRolloutBody,
  Deployment,
  EnvironmentHooks,
  EnvironmentParity,
  EnvParams,
  HookRun,
  HookRunLog,
  HookRunParams,
  IdempotencyHeaders,
  IdParams,
  InstanceLogQuery,
  ListOf,
  ParityQuery,
  PutHooksBody,
  PutJobLauncherBody,
} from '@qubot/api-contract';
import { followLog } from '@qubot/runtime';
import type { FastifyInstance } from 'fastify';
import { sendIdempotent } from './idempotent.ts';
import { logStreams } from './log-stream.ts';
import { errorResponses, typed } from './route-kit.ts';

const errors = errorResponses(400, 401, 403, 404, 409);

export default async function driftHooksRouter(parent: FastifyInstance) {
  const app = typed(parent);
  const { deploymentCommands, idempotency, hooks, parity } = app.services;
  const base = '/apps/:app/environments/:env';
  const stream = logStreams(parent);

  app.post(
    `${base}/config/rollout`,
    {
      onRequest: app.authenticate,
      schema: {
        tags: ['deployments'],
        summary: 'Roll out configuration: redeploy the live release with the current configuration',
        description:
          "A deployment (202) of the live release that ships the environment's current configuration, replacing instances started with an older one (drift). Audited `config.rollout`; the rules of a deploy apply (permission, one active deployment, freeze windows, approvals). 409 `no_drift` when every running instance already runs the current configuration, `nothing_live` when nothing is live. Default strategy: rolling.",
        params: EnvParams,
        headers: IdempotencyHeaders,
        body: ConfigRolloutBody,
        response: { 202: Deployment, ...errors },
      },
    },
    async (request, reply) =>
      sendIdempotent(idempotency, request, reply, async () => ({
        status: 202,
        body: await deploymentCommands.rolloutConfig(
          request.ctx(),
          request.params.app,
          request.params.env,
          request.body ?? {},
        ),
      })),
  );

  app.get(
    '/apps/:app/parity',
    {
      onRequest: app.authenticate,
      schema: {
        tags: ['environments'],
        summary:
          'Compare two environments: release, configuration keys, replicas, resources, provider, hooks',
        description:
          'Configuration values are compared like GET /apps/:app/config/diff: secrets are masked, and compared only for admins (others see them under notCompared).',
        params: AppParams,
        querystring: ParityQuery,
        response: { 200: EnvironmentParity, ...errors },
      },
    },
    async (request) =>
      parity.compare(request.ctx(), request.params.app, request.query.from, request.query.to),
  );

  app.get(
    `${base}/hooks`,
    {
      onRequest: app.authenticate,
      schema: {
        tags: ['hooks'],
        summary: "An environment's deployment hooks",
        params: EnvParams,
        response: { 200: EnvironmentHooks, ...errors },
      },
    },
    async (request) => hooks.get(request.ctx(), request.params.app, request.params.env),
  );
  app.put(
    `${base}/hooks`,
    {
      onRequest: app.authenticate,
      schema: {
        tags: ['hooks'],
        summary: 'Set the pre- and post-deployment hooks (admin)',
        description:
          "Jobs named here run through the application's job launcher with the environment's configuration; null removes a hook. Applies to deployments created afterwards. Audited `environment.hooks`; a reason is required on protected environments.",
        params: EnvParams,
        body: PutHooksBody,
        response: { 200: EnvironmentHooks, ...errors },
      },
    },
    async (request) => hooks.put(request.ctx(), request.params.app, request.params.env, request.body),
  );
  app.put(
    '/apps/:app/job-launcher',
    {
      onRequest: app.authenticate,
      schema: {
        tags: ['hooks'],
        summary: "Set the application's job launcher (admin)",
        description:
          'A command template like the instance launcher (no shell; one template word is one argument): placeholders {job} {version} {artifact} {environment}. Audited `application.job_launcher`.',
        params: AppParams,
        body: PutJobLauncherBody,
        response: { 200: PutJobLauncherBody, ...errors },
      },
    },
    async (request) => hooks.putJobLauncher(request.ctx(), request.params.app, request.body),
  );

  app.get(
    '/deployments/:id/hooks',
    {
      onRequest: app.authenticate,
      schema: {
        tags: ['hooks'],
        summary: "A deployment's hook runs, oldest first",
        params: IdParams,
        response: { 200: ListOf(HookRun), ...errors },
      },
    },
    async (request) => hooks.runs(request.ctx(), request.params.id),
  );
  app.get(
    '/deployments/:id/hooks/:runId/logs',
    {
      onRequest: app.authenticate,
      schema: {
        tags: ['hooks'],
        summary: "The last lines of a hook run's output (deployer; release-manager on protected)",
        description:
          'With `follow=true` the response stays open as `application/x-ndjson`, like instance logs: first `{"lines":[…]}`, then one `{"lines":[…]}` per batch of new lines (an empty batch every 15 s), until the client closes it.',
        params: HookRunParams,
        querystring: InstanceLogQuery,
        response: { 200: HookRunLog, ...errors },
      },
    },
    async (request, reply) => {
      const { id, runId } = request.params;
      const log = await hooks.runLog(request.ctx(), id, runId, request.query.lines);
      if (!request.query.follow) return log;
      const path = await hooks.runLogPath(request.ctx(), id, runId);
      return stream(reply, log.lines, async (write) => {
        if (!path) return null;
        const follower = followLog(path, write);
        await follower.ready;
        return follower;
      });
    },
  );
}
