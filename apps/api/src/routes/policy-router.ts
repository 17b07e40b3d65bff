import {
  AppParams,
  EnvironmentPolicy,
  EnvParams,
  ListOf,
  PolicyPauseBody,
  UpdatePolicyBody,
} from '@qubot/api-contract';
import type { FastifyInstance } from 'fastify';
import { errorResponses, typed } from './route-kit.ts';

const errors = errorResponses(400, 401, 403, 404);

/** Promotion policies (docs/deployments.md "Promotion policies"). */
export default async function policyRouter(parent: FastifyInstance) {
  const app = typed(parent);
  const { policies } = parent;
  app.get(
    '/apps/:app/policies',
    {
      onRequest: app.authenticate,
      schema: {
        tags: ['environments'],
        summary: "Each environment's promotion policy and what it will do next, in pipeline order",
        params: AppParams,
        response: { 200: ListOf(EnvironmentPolicy), ...errors },
      },
    },
    async (request) => policies.list(request.ctx(), request.params.app),
  );
  app.put(
    '/apps/:app/environments/:env/policy',
    {
      onRequest: app.authenticate,
      schema: {
        tags: ['environments'],
        summary:
          "Set an environment's promotion policy (admin): manual, or automatic with a strategy and options",
        description:
          'The rule follows the position: the first environment deploys a new release whose test results passed; later ones promote what has been live and healthy in the previous one for `soakSeconds` with a clean analysis. Protected environments only request: the deployment waits for approval.',
        params: EnvParams,
        body: UpdatePolicyBody,
        response: { 200: EnvironmentPolicy, ...errors },
      },
    },
    async (request) => policies.update(request.ctx(), request.params.app, request.params.env, request.body),
  );
  for (const action of ['pause', 'resume'] as const) {
    app.post(
      `/apps/:app/environments/:env/policy/${action}`,
      {
        onRequest: app.authenticate,
        schema: {
          tags: ['environments'],
          summary:
            action === 'pause'
              ? 'Pause the promotion policy (release-manager): nothing automatic happens here until resumed'
              : 'Resume a paused promotion policy (release-manager)',
          params: EnvParams,
          body: PolicyPauseBody,
          response: { 200: EnvironmentPolicy, ...errors },
        },
      },
      async (request) =>
        policies[action](request.ctx(), request.params.app, request.params.env, request.body ?? {}),
    );
  }
}
