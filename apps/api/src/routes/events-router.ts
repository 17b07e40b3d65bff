import { EventStreamClose } from '@qubot/api-contract';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { StreamCaller } from '../events/event-bus-plugin.ts';
import { readCookie } from '../lib/cookies.ts';
import { sha256 } from '../lib/password.ts';
import type { Actor } from '../lib/request-context.ts';
import { parseBearer, SESSION_COOKIE } from '../services/auth-service.ts';
import { typed } from './route-kit.ts';

/**
 * The one place the stream authenticates: the upgrade request went through the same
 * onRequest hooks as every REST call (auth plugin), so the caller is already resolved. The
 * socket keeps how to check the same credentials again, for revocation (issue 8 item 7).
 */
async function streamCaller(app: FastifyInstance, request: FastifyRequest): Promise<StreamCaller | null> {
  const actor = request.actor ?? null;
  const creds = request.credentials;
  if (!actor || actor.kind === 'anonymous' || !creds) return null;
  const authorization = request.headers.authorization;
  const sessionCookie = readCookie(request.headers.cookie, SESSION_COOKIE);
  const revalidate = async (): Promise<Actor | null> => {
    const now = await app.services.auth.resolve({ authorization, sessionCookie });
    // The same refusals as the upgrade itself (a user who must change their password first).
    return now && !now.mustChangePassword ? now.actor : null;
  };
  const bearer = parseBearer(authorization);
  if (bearer && actor.kind === 'token') {
    const token = await app.repos.tokens.findByHash(sha256(bearer));
    if (!token) return null;
    return {
      actor,
      principal: `token:${token.id}`,
      userId: token.createdById,
      sessionId: null,
      tokenId: token.id,
      revalidate,
    };
  }
  const userId = actor.userId ?? null;
  return {
    actor,
    principal: `user:${userId ?? actor.name}`,
    userId,
    sessionId: creds.session?.id ?? null,
    tokenId: null,
    revalidate,
  };
}

/** `GET /api/v1/events` (websocket): the live event stream of DESIGN §5, see docs/events.md. */
export default async function eventsRouter(parent: FastifyInstance) {
  const app = typed(parent);
  app.get(
    '/events',
    {
      websocket: true,
      schema: { tags: ['events'], summary: 'Live event stream (websocket, see docs/events.md)' },
    },
    async (socket, request) => {
      // Messages that arrive before the caller is known wait for the session.
      const early: string[] = [];
      const hold = (data: Buffer, isBinary: boolean) => early.push(isBinary ? '' : data.toString());
      socket.on('message', hold);
      const caller = await streamCaller(app, request);
      socket.off('message', hold);
      if (!caller) {
        socket.close(EventStreamClose.Unauthenticated, 'sign in first');
        return;
      }
      // Only what the caller may read: checked for every topic it subscribes to.
      const session = app.eventStream.open(socket, caller);
      for (const raw of early) session?.onMessage(raw);
    },
  );
}
