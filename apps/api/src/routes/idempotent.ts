import type { FastifyReply, FastifyRequest } from 'fastify';
import type { IdempotencyService } from '../services/idempotency-service.ts';

/** Runs a POST handler under the request's Idempotency-Key (if any) and sends the (replayed) answer. */
export async function sendIdempotent(
  idempotency: IdempotencyService,
  request: FastifyRequest,
  reply: FastifyReply,
  handler: () => Promise<{ status: number; body: unknown }>,
) {
  const header = request.headers['idempotency-key'];
  const res = await idempotency.run(
    {
      actor: request.actor?.name ?? 'anonymous',
      method: request.method,
      path: request.url.split('?')[0] ?? request.url,
      key: typeof header === 'string' ? header : undefined,
      body: request.body ?? null,
      requestId: String(request.id),
    },
    handler,
  );
  if (res.replayed) reply.header('idempotent-replayed', 'true');
  return reply.status(res.status).send(res.body);
}
