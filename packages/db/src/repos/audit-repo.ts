import type { Db } from '../client.ts';
import { decodeKey, encodeKey, InvalidCursorError } from '../cursor.ts';
import type { Prisma } from '../generated/client.ts';
import type { RawQueryable } from './deployment-repo.ts';

export interface AuditFilter {
  actor?: string | undefined;
  /** Exact action, or a prefix ending in "." (e.g. "deployment."). */
  action?: string | undefined;
  /** Application name: entries whose target is `<app>/…` or `<app>@…`. */
  app?: string | undefined;
  /** Environment name: entries whose target is `<app>/<env>` or `<app>/<env>/…`. */
  env?: string | undefined;
  from?: string | undefined;
  to?: string | undefined;
  /** Leave out `auth.*` entries (sign-ins, sign-outs, lockouts). */
  hideSignIns?: boolean | undefined;
  cursor?: string | undefined;
}

export type AuditRow = Prisma.AuditEntryGetPayload<object>;

/** Keyset position on (at desc, id desc); InvalidCursorError when the id is not a bigint. */
function decodeAuditCursor(cursor: string): { at: Date; id: bigint } {
  const { at, id } = decodeKey(cursor);
  if (!/^\d{1,19}$/.test(id)) throw new InvalidCursorError();
  return { at, id: BigInt(id) };
}

/** `value` as a literal inside a LIKE pattern (backslash is LIKE's default escape character). */
const likeLiteral = (value: string) => value.replace(/[\\%_]/g, (c) => `\\${c}`);

/**
 * The filter as SQL with numbered parameters (each condition an index prefix followed by the page
 * order). Filter values are matched literally: `%` and `_` in them are no LIKE wildcards.
 */
function whereSql(q: AuditFilter, values: unknown[]): string {
  const p = (v: unknown) => {
    values.push(v);
    return `$${values.length}`;
  };
  const and: string[] = [];
  if (q.actor) and.push(`actor = ${p(q.actor)}`);
  if (q.action)
    and.push(
      q.action.endsWith('.') ? `action LIKE ${p(`${likeLiteral(q.action)}%`)}` : `action = ${p(q.action)}`,
    );
  if (q.app)
    and.push(`(target LIKE ${p(`${likeLiteral(q.app)}/%`)} OR target LIKE ${p(`${likeLiteral(q.app)}@%`)})`);
  if (q.env) {
    const prefix = q.app ? `${q.app}/${q.env}` : null;
    and.push(
      prefix
        ? `(target = ${p(prefix)} OR target LIKE ${p(`${likeLiteral(prefix)}/%`)})`
        : `(target LIKE ${p(`%/${likeLiteral(q.env)}`)} OR target LIKE ${p(`%/${likeLiteral(q.env)}/%`)})`,
    );
  }
  if (q.hideSignIns) and.push(`NOT (action LIKE 'auth.%')`);
  if (q.from) and.push(`at >= ${p(new Date(q.from).toISOString())}::timestamptz`);
  if (q.to) and.push(`at < ${p(new Date(q.to).toISOString())}::timestamptz`);
  if (q.cursor) {
    const c = decodeAuditCursor(q.cursor);
    const at = `${p(c.at.toISOString())}::timestamptz`;
    and.push(`at <= ${at} AND (at < ${at} OR (at = ${at} AND id < ${p(c.id.toString())}::bigint))`);
  }
  return and.length ? `WHERE ${and.join(' AND ')}` : '';
}

/**
 * A row of `SELECT * FROM audit_entries`, from pg (int8 as a string) or from Prisma's raw query
 * (int8 as a BigInt), in the shape of the AuditEntry model.
 */
function toAuditRow(r: Record<string, unknown>): AuditRow {
  return {
    id: BigInt(r.id as string | bigint),
    at: r.at as Date,
    actor: r.actor as string,
    role: r.role as string | null,
    action: r.action as string,
    targetType: r.target_type as string,
    targetId: r.target_id as string | null,
    target: r.target as string | null,
    reason: r.reason as string | null,
    before: r.before as AuditRow['before'],
    after: r.after as AuditRow['after'],
    requestId: r.request_id as string | null,
    clientIp: r.client_ip as string | null,
    userAgent: r.user_agent as string | null,
  };
}

/** The audit trail, read side (entries are appended with appendAudit in each action's transaction). */
export function createAuditRepo(root: Db, raw: { pool?: RawQueryable } = {}) {
  return {
    /**
     * Up to `take` entries after the filter's cursor, newest first: one statement, built once.
     * Outside a transaction it goes to the pg pool (Prisma's result mapping was half of an audit
     * page's CPU: bench/README.md, "History at scale"); inside one, or without a pool, through
     * Prisma's raw query on `db`. `audit-router.test.ts` checks every path against known entries.
     */
    async find(filter: AuditFilter, take: number, db: Db = root): Promise<AuditRow[]> {
      const values: unknown[] = [];
      const sql = `SELECT * FROM audit_entries ${whereSql(filter, values)} ORDER BY at DESC, id DESC LIMIT ${Math.max(0, Math.floor(take))}`;
      const rows =
        raw.pool && db === root
          ? (await raw.pool.query(sql, values)).rows
          : await db.$queryRawUnsafe<Record<string, unknown>[]>(sql, ...values);
      return rows.map(toAuditRow);
    },
    /** The cursor of the page that starts after `row`. */
    cursorAfter(row: { at: Date; id: bigint }): string {
      return encodeKey(row.at, row.id.toString());
    },
  };
}
export type AuditRepo = ReturnType<typeof createAuditRepo>;
