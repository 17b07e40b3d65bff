import {
  EnvironmentMetrics,
  EnvParams,
  InstanceLog,
  InstanceLogParams,
  InstanceLogQuery,
  MetricsQuery,
  TrafficProviderStatus,
} from '@qubot/api-contract';
import type { FastifyInstance } from 'fastify';
import { logStreams } from './log-stream.ts';
import { errorResponses, typed } from './route-kit.ts';

const errors = errorResponses(400, 401, 403, 404);

/** What the environment page watches: router figures per pool, and instance logs (docs/dashboard.md). */
export default async function environmentObserveRouter(parent: FastifyInstance) {
  const app = typed(parent);
  const base = '/apps/:app/environments/:env';
  const stream = logStreams(parent);

  app.get(
    `${base}/metrics`,
    {
      onRequest: app.authenticate,
      schema: {
        tags: ['environments'],
        summary: "Recent requests, errors and p95 per pool from the environment's router",
        description:
          'Samples kept in memory by this process (oldest first), for the first render of a chart; later samples arrive on the event stream as `metrics` messages (docs/events.md).',
        params: EnvParams,
        querystring: MetricsQuery,
        response: { 200: EnvironmentMetrics, ...errors },
      },
    },
    async (request) =>
      app.observe.metrics(request.ctx(), request.params.app, request.params.env, request.query.windowSeconds),
  );

  app.get(
    `${base}/traffic-provider`,
    {
      onRequest: app.authenticate,
      schema: {
        tags: ['environments'],
        summary: "The environment's traffic provider: kind, capabilities, live health",
        description:
          'What serves the address (node: the embedded router; haproxy: HAProxy through its runtime API), what it can do, and its health now. A provider that checks its targets itself (HAProxy) lists each target with its own check result (`health.targets`). Changed by an admin with PATCH …/settings `trafficProvider`.',
        params: EnvParams,
        response: { 200: TrafficProviderStatus, ...errors },
      },
    },
    async (request) => app.observe.trafficProvider(request.ctx(), request.params.app, request.params.env),
  );

  app.get(
    `${base}/instances/:id/logs`,
    {
      onRequest: app.authenticate,
      schema: {
        tags: ['environments'],
        summary: "The last lines of an instance's stdout/stderr (deployer; release-manager on protected)",
        description:
          'With `follow=true` the response stays open as `application/x-ndjson`: first `{"lines":[…last lines…]}`, then one `{"lines":[…]}` per batch of new lines (an empty batch every 15 s keeps it alive), until the client closes it.',
        params: InstanceLogParams,
        querystring: InstanceLogQuery,
        response: { 200: InstanceLog, ...errors },
      },
    },
    async (request, reply) => {
      const { app: appName, env, id } = request.params;
      const log = await app.observe.instanceLog(request.ctx(), appName, env, id, request.query.lines);
      if (!request.query.follow) return log;
      return stream(reply, log.lines, (write) =>
        app.observe.followInstanceLog(request.ctx(), appName, env, id, write),
      );
    },
  );
}
