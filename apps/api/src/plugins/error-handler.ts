import { isPoolExhausted } from '@qubot/db';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { AppError, ErrorCode } from '../lib/app-error.ts';

interface AjvIssue {
  instancePath?: string;
  message?: string;
  keyword?: string;
  params?: Record<string, unknown>;
}

/** "body.options.steps[2]" style path for the field at fault. */
export function fieldOf(context: string | undefined, issue: AjvIssue | undefined): string {
  const parts = (issue?.instancePath ?? '')
    .split('/')
    .filter(Boolean)
    .map((p) => (/^\d+$/.test(p) ? `[${p}]` : `.${p}`));
  const extra = issue?.params?.missingProperty ?? issue?.params?.additionalProperty;
  if (typeof extra === 'string') parts.push(`.${extra}`);
  return `${context ?? 'body'}${parts.join('')}`;
}

function describe(issue: AjvIssue | undefined): string {
  if (!issue) return 'is invalid';
  if (issue.keyword === 'additionalProperties') return 'is not a known field';
  if (issue.keyword === 'required') return 'is required';
  return issue.message ?? 'is invalid';
}

/**
 * Fastify's `frameworkErrors` option: errors the router raises before any route or hook runs
 * (a URL with broken percent-encoding, an over-long path parameter) get the same envelope as
 * every other error instead of Fastify's own body.
 */
export function frameworkErrors(err: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  const tooLong = err.code === 'FST_ERR_MAX_PARAM_LENGTH';
  void reply
    .status(tooLong ? 414 : 400)
    .header('x-request-id', String(request.id))
    .send({
      error: {
        code: ErrorCode.BadRequest,
        message: tooLong
          ? 'a path segment of the URL is too long'
          : err.code === 'FST_ERR_BAD_URL'
            ? 'the URL is malformed: it has an invalid percent-encoding'
            : 'the request could not be routed',
        details: { field: 'url' },
      },
      requestId: String(request.id),
    });
}

/** One handler for every error: the envelope of DESIGN §6; 5xx never leak internals. */
export default fp(
  async (app: FastifyInstance) => {
    app.setErrorHandler((err: FastifyError | AppError | Error, request, reply) => {
      const requestId = String(request.id);
      const send = (status: number, code: string, message: string, details?: unknown) =>
        reply
          .status(status)
          .send({ error: { code, message, ...(details === undefined ? {} : { details }) }, requestId });

      if (err instanceof AppError) {
        if (err.statusCode >= 500) request.log.error({ err }, 'request failed');
        return send(err.statusCode, err.code, err.message, err.details);
      }
      const fe = err as FastifyError & { validation?: AjvIssue[]; validationContext?: string };
      if (fe.validation) {
        const issue = fe.validation[0];
        const field = fieldOf(fe.validationContext, issue);
        return send(400, ErrorCode.ValidationFailed, `${field} ${describe(issue)}`, {
          field,
          issues: fe.validation
            .slice(0, 10)
            .map((i) => ({ field: fieldOf(fe.validationContext, i), message: describe(i) })),
        });
      }
      const status = fe.statusCode ?? 500;
      if (status === 413) return send(413, ErrorCode.PayloadTooLarge, 'request body is too large');
      if (status === 429) return send(429, ErrorCode.RateLimited, fe.message || 'too many requests');
      if (status >= 400 && status < 500) {
        // Fastify's own 4xx (malformed JSON, wrong content type, ...): safe to show.
        return send(
          status,
          fe.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' ? 'unsupported_media_type' : ErrorCode.BadRequest,
          fe.message,
        );
      }
      if (isPoolExhausted(err)) {
        // Every database connection stayed busy for the whole wait: too much at once, not an
        // outage (/readyz stays ready). Clients should come back in a moment.
        request.log.warn({ err }, 'database connection pool exhausted');
        void reply.header('retry-after', '2');
        return send(
          503,
          ErrorCode.Unavailable,
          'the server is overloaded: every database connection is busy; try again in a few seconds',
          { reason: 'overloaded', retryAfterSeconds: 2 },
        );
      }
      if (isDatabaseDown(err)) {
        request.log.warn({ err }, 'database unavailable');
        return send(503, ErrorCode.Unavailable, 'the database is unavailable; try again shortly');
      }
      request.log.error({ err }, 'unhandled error');
      return send(500, ErrorCode.Internal, 'internal error');
    });

    app.setNotFoundHandler((request, reply) => {
      reply.status(404).send({
        error: {
          code: ErrorCode.NotFound,
          message: `route ${request.method} ${request.url.split('?')[0]} not found`,
        },
        requestId: String(request.id),
      });
    });
  },
  { name: 'error-handler' },
);

export function isDatabaseDown(err: unknown): boolean {
  const e = err as { code?: string; message?: string; cause?: unknown };
  const code = e?.code ?? '';
  if (['ECONNREFUSED', 'ECONNRESET', '57P01', '57P03', 'P1001', 'P1017', 'ETIMEDOUT'].includes(code))
    return true;
  if (/Can't reach database|Connection terminated|connect ECONNREFUSED/i.test(e?.message ?? '')) {
    return true;
  }
  return e?.cause ? isDatabaseDown(e.cause) : false;
}
