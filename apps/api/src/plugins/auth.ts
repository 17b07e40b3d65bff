import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { type Actor, contextFrom, type RequestContext } from '../lib/request-context.ts';

declare module 'fastify' {
  interface FastifyRequest {
    actor: Actor;
    ctx(): RequestContext;
  }
}

const ANONYMOUS: Actor = { name: 'anonymous', role: 'admin', kind: 'anonymous' };

/** Resolves the caller of every request into `request.actor`. */
export default fp(
  async (app: FastifyInstance) => {
    app.decorateRequest('actor', null as unknown as Actor);
    app.decorateRequest('ctx', function (this: import('fastify').FastifyRequest) {
      return contextFrom(this, this.actor);
    });
    app.addHook('onRequest', async (request) => {
      request.actor = ANONYMOUS;
    });
  },
  { name: 'auth' },
);
