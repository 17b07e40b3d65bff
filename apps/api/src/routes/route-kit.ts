// What every router shares: handlers typed from their route schemas, and the error responses.
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { ErrorEnvelope } from '@qubot/api-contract';
import type {
  FastifyBaseLogger,
  FastifyInstance,
  FastifyReply,
  RawReplyDefaultExpression,
  RawRequestDefaultExpression,
  RawServerDefault,
} from 'fastify';

/** A Fastify instance whose handlers take params, query, body and reply types from the schemas. */
export type Router = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  FastifyBaseLogger,
  TypeBoxTypeProvider
>;

/**
 * `app` with the TypeBox type provider: types only. Validation stays with app.ts's Ajv compiler
 * (strict schemas, the field at fault in 400s) and serialisation with app.ts's (fast-serialiser.ts).
 */
export const typed = (app: FastifyInstance): Router => app.withTypeProvider<TypeBoxTypeProvider>();

/** The error responses a route documents, each the envelope of DESIGN §6: `errorResponses(400, 404)`. */
export function errorResponses<C extends number>(...codes: C[]): { [K in C]: typeof ErrorEnvelope } {
  return Object.fromEntries(codes.map((c) => [c, ErrorEnvelope])) as { [K in C]: typeof ErrorEnvelope };
}

/**
 * Sends what the route's schema does not type: JSON the service already serialised through the
 * route's response schema (the view cache), or a stream. Fastify sends both as they are.
 */
export function sendRaw(reply: FastifyReply, payload: string | Buffer | NodeJS.ReadableStream): FastifyReply {
  return reply.send(payload);
}
