import type { AuditFilter, AuditRepo, AuditRow } from '@qubot/db';
import { AppError } from '../lib/app-error.ts';
import { requirePermission } from '../lib/permissions.ts';
import type { RequestContext } from '../lib/request-context.ts';
import { withCursor } from './with-cursor.ts';

export interface AuditQuery extends AuditFilter {
  limit?: number | undefined;
}

export interface AuditEntryView {
  id: string;
  at: string;
  actor: string;
  role: string | null;
  action: string;
  targetType: string;
  targetId: string | null;
  target: string | null;
  reason: string | null;
  before: unknown;
  after: unknown;
  requestId: string | null;
  clientIp: string | null;
  userAgent: string | null;
  /** Release version of the deployment or release the entry is about. */
  version: string | null;
  deploymentId: string | null;
}

export function auditView(r: AuditRow): AuditEntryView {
  return {
    id: r.id.toString(),
    at: r.at.toISOString(),
    actor: r.actor,
    role: r.role,
    action: r.action,
    targetType: r.targetType,
    targetId: r.targetId,
    target: r.target,
    reason: r.reason,
    before: r.before ?? null,
    after: r.after ?? null,
    requestId: r.requestId,
    clientIp: r.clientIp,
    userAgent: r.userAgent,
    version: r.version,
    deploymentId: r.targetType === 'deployment' ? r.targetId : null,
  };
}

/**
 * Cells a spreadsheet would run as a formula get a leading quote (CSV injection). Spreadsheets
 * skip leading whitespace before looking for `=`, so any leading whitespace (space, tab, CR, LF,
 * Unicode spaces) is neutralised too, as are the full-width sign characters some of them accept.
 */
export function csvCell(value: unknown): string {
  let s =
    value === null || value === undefined ? '' : typeof value === 'string' ? value : JSON.stringify(value);
  if (/^[=+\-@\s\uFF0B\uFF0D\uFF1D\uFF20]/u.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

export const CSV_COLUMNS = [
  'id',
  'at',
  'actor',
  'role',
  'action',
  'targetType',
  'targetId',
  'target',
  'reason',
  'before',
  'after',
  'requestId',
  'clientIp',
  'userAgent',
  'version',
  'deploymentId',
] as const satisfies ReadonlyArray<keyof AuditEntryView>;

/** Most rows a CSV export holds; narrow the filters for more. */
export const CSV_MAX_ROWS = 50_000;
/** Rows per database read (and per streamed chunk) of a CSV export. */
export const CSV_PAGE_ROWS = 1_000;

/** The audit trail (read side; entries are written by each service in its own transaction). */
export function createAuditService(deps: { entries: Pick<AuditRepo, 'find' | 'cursorAfter'> }) {
  const { entries } = deps;
  function checkRange(q: AuditQuery) {
    if (q.from && q.to && new Date(q.from) > new Date(q.to))
      throw AppError.badField('querystring.to', 'must not be before from');
  }
  return {
    async list(
      ctx: RequestContext,
      q: AuditQuery,
    ): Promise<{ items: AuditEntryView[]; nextCursor: string | null }> {
      requirePermission(ctx, 'audit.read');
      checkRange(q);
      const limit = q.limit ?? 50;
      const rows = await withCursor(() => entries.find(q, limit + 1));
      const items = rows.slice(0, limit);
      const last = items[items.length - 1];
      return {
        items: items.map(auditView),
        nextCursor: rows.length > limit && last ? entries.cursorAfter(last) : null,
      };
    },

    /**
     * The whole filtered trail as CSV (newest first, at most CSV_MAX_ROWS rows), streamed a page
     * of 1,000 rows at a time: memory stays one page, and the download starts after the first.
     * The first page is read before this returns, so a refusal or a database failure up to then
     * is an error answer; a failure later ends the download early (the caller aborts the stream).
     */
    async csv(ctx: RequestContext, q: Omit<AuditQuery, 'cursor' | 'limit'>): Promise<AsyncIterable<string>> {
      requirePermission(ctx, 'audit.read');
      checkRange(q);
      async function* pages(): AsyncGenerator<string> {
        let cursor: string | undefined;
        let count = 0;
        while (count < CSV_MAX_ROWS) {
          const take = Math.min(CSV_PAGE_ROWS, CSV_MAX_ROWS - count);
          const rows = await entries.find({ ...q, cursor }, take);
          let chunk = count === 0 ? `${CSV_COLUMNS.join(',')}\r\n` : '';
          for (const v of rows.map(auditView)) {
            chunk += `${CSV_COLUMNS.map((c) => csvCell(v[c])).join(',')}\r\n`;
          }
          if (chunk) yield chunk;
          count += rows.length;
          const last = rows[rows.length - 1];
          if (rows.length < take || !last) return;
          cursor = entries.cursorAfter(last);
        }
      }
      const it = pages();
      const first = await it.next();
      return (async function* () {
        if (!first.done) yield first.value;
        yield* it;
      })();
    },
  };
}
export type AuditService = ReturnType<typeof createAuditService>;
