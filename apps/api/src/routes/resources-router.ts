import { EnvParams, ResourcesChange, RuntimeInfo, UpdateResourcesBody } from '@qubot/api-contract';
import type { FastifyInstance } from 'fastify';
import { errorResponses, typed } from './route-kit.ts';

const errors = errorResponses(400, 401, 403, 404, 409, 423);

/** Vertical scaling (docs/scaling.md): per-instance CPU and memory limits, and what enforces them. */
export default async function resourcesRouter(parent: FastifyInstance) {
  const app = typed(parent);
  const { deploymentCommands } = app.services;
  app.put(
    '/apps/:app/environments/:env/resources',
    {
      onRequest: app.authenticate,
      schema: {
        tags: ['environments'],
        summary: "Change an environment's per-instance CPU and memory limits (release-manager; audited)",
        description:
          'On a live environment the new limits commit together with a deployment of the live release (`strategy`, default rolling) that replaces every instance with one started under the new limits; 409 while another deployment is in progress (nothing changes). With nothing live they apply to the next deployment. `enforced` says whether the runtime enforces them (control groups; see GET /runtime) — where it cannot, they are recorded and passed to instances as QUBOT_MEMORY_LIMIT_MB / QUBOT_CPU_LIMIT only.',
        params: EnvParams,
        body: UpdateResourcesBody,
        response: { 200: ResourcesChange, ...errors },
      },
    },
    async (request) =>
      deploymentCommands.changeResources(request.ctx(), request.params.app, request.params.env, request.body),
  );
  app.get(
    '/runtime',
    {
      onRequest: app.authenticate,
      schema: {
        tags: ['environments'],
        summary: 'The runtime driver instances run under, and its capabilities (enforced limits, hosts)',
        response: { 200: RuntimeInfo, ...errorResponses(401) },
      },
    },
    async (request) => deploymentCommands.runtimeInfo(request.ctx()),
  );
}
