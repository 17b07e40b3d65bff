import { EventStreamClose } from '@qubot/api-contract';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { canReadApplication } from '../lib/permissions.ts';
import type { Actor } from '../lib/request-context.ts';

/**
 * The one place the stream authenticates: the upgrade request went through the same
 * onRequest hooks as every REST call (auth plugin), so the caller is already resolved.
 */
function socketActor(request: FastifyRequest): Actor | null {
  return request.actor ?? null;
}

/** `GET /api/v1/events` (websocket): the live event stream of DESIGN §5, see docs/events.md. */
export default async function eventsRouter(app: FastifyInstance) {
  app.get(
    '/events',
    {
      websocket: true,
      schema: { tags: ['events'], summary: 'Live event stream (websocket, see docs/events.md)' },
    },
    (socket, request) => {
      const actor = socketActor(request);
      if (!actor || !canReadAnything(actor)) {
        socket.close(EventStreamClose.Unauthenticated, 'sign in first');
        return;
      }
      // Only what the caller may read: checked for every topic it subscribes to.
      app.eventStream.open(socket, (topic) => canReadApplication(actor, topic.application.name));
    },
  );
}

function canReadAnything(actor: Actor): boolean {
  return actor.kind !== 'anonymous';
}
