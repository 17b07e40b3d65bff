import { Readable } from 'node:stream';
import { AuditCsvQuery, AuditEntry, AuditQuery, ListOf } from '@qubot/api-contract';
import type { FastifyInstance } from 'fastify';
import Type from 'typebox';
import { errorResponses, sendRaw, typed } from './route-kit.ts';

const errors = errorResponses(400, 401, 403);

export default async function auditRouter(parent: FastifyInstance) {
  const app = typed(parent);
  const { audit } = app.services;
  app.get(
    '/audit',
    {
      onRequest: app.authenticate,
      schema: {
        tags: ['audit'],
        summary: 'The audit trail, newest first (release-manager and admin)',
        description:
          '`env` matches entries whose target is `<app>/<env>` or `<app>/<env>/…`; `app` those whose target starts with `<app>/` or `<app>@`; ' +
          '`action` is exact, or a prefix when it ends with "."; `from` is inclusive, `to` exclusive.',
        querystring: AuditQuery,
        response: { 200: ListOf(AuditEntry), ...errors },
      },
    },
    async (request) => audit.list(request.ctx(), request.query),
  );
  app.get(
    '/audit.csv',
    {
      onRequest: app.authenticate,
      schema: {
        tags: ['audit'],
        summary:
          'The audit trail as CSV, same filters (cells that a spreadsheet would run as formulas are quoted)',
        querystring: AuditCsvQuery,
        response: { 200: Type.String({ description: 'text/csv' }), ...errors },
      },
    },
    async (request, reply) => {
      const csv = await audit.csv(request.ctx(), request.query);
      const stamp = new Date().toISOString().slice(0, 19).replaceAll(':', '');
      // Streamed (chunked): a page at a time. A failure after the first page destroys the stream,
      // so the client sees a cut download, never a short file that looks complete.
      const body = Readable.from(csv);
      body.on('error', (err) => request.log.error({ err }, 'audit CSV export failed part-way'));
      return sendRaw(
        reply
          .header('content-type', 'text/csv; charset=utf-8')
          .header('content-disposition', `attachment; filename="qubot-audit-${stamp}.csv"`),
        body,
      );
    },
  );
}
