import type { FastifyInstance } from 'fastify';
import { typed } from './route-kit.ts';

/**
 * `GET /api/v1/agent/connect` (websocket): the one connection each host's agent keeps (docs/hosts.md).
 * Not a user route: the agent authenticates with its host credential (Bearer), checked by the hub.
 */
export default async function agentRouter(parent: FastifyInstance) {
  const app = typed(parent);
  app.get(
    '/agent/connect',
    {
      websocket: true,
      config: { public: true },
      schema: {
        tags: ['hosts'],
        summary:
          "A host agent's connection (websocket; Bearer: the host credential from enrolment). Heartbeats and instance reports in, desired state out (docs/hosts.md)",
      },
    },
    async (socket, request) => {
      await app.orchestrator.agentHub.accept(socket, request.headers.authorization);
    },
  );
}
