import type { Db } from '../client.ts';
import { decodeKey, encodeKey, InvalidCursorError, type KeysetColumns, keysetAfterSql } from '../cursor.ts';
import { Prisma } from '../generated/client.ts';
import { queryRows, type RawQueryable } from './raw-rows.ts';

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

/**
 * An entry as the list reads it: the stored row, and the version of the release it is about — of
 * the deployment whose id is its target id, or of the release whose id it is (null otherwise).
 */
export type AuditRow = Prisma.AuditEntryGetPayload<object> & { version: string | null };

// A target id that is exactly a row's id as PostgreSQL writes uuids (lower case). Inside CASE the
// cast never sees anything else, and each lookup is one primary-key probe per entry about a
// deployment or a release (a join would let the planner hash a whole table).
const UUID_TEXT = `'^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'`;
const VERSION = Prisma.raw(`CASE
      WHEN a.target_type = 'deployment' AND a.target_id ~ ${UUID_TEXT} THEN
        (SELECT r.version FROM deployments d JOIN releases r ON r.id = d.release_id WHERE d.id = a.target_id::uuid)
      WHEN a.target_type = 'release' AND a.target_id ~ ${UUID_TEXT} THEN
        (SELECT r.version FROM releases r WHERE r.id = a.target_id::uuid)
    END`);

/** Keyset position on (at desc, id desc); InvalidCursorError when the id is not a bigint. */
function decodeAuditCursor(cursor: string): { at: Date; id: bigint } {
  const { at, id } = decodeKey(cursor);
  if (!/^\d{1,19}$/.test(id)) throw new InvalidCursorError();
  return { at, id: BigInt(id) };
}

/** The audit trail's page order: (at desc, id desc), ids bigint. */
const AUDIT_KEYSET: KeysetColumns = { time: 'at', id: 'id', idType: 'bigint' };

/** `value` as a literal inside a LIKE pattern (backslash is LIKE's default escape character). */
const likeLiteral = (value: string) => value.replace(/[\\%_]/g, (c) => `\\${c}`);

/**
 * The statement of one audit page: the filter (each condition an index prefix followed by the page
 * order), newest first, at most `take` rows. Filter values are matched literally: `%` and `_` in
 * them are no LIKE wildcards. Exported so bench/history-scale.ts EXPLAINs the repository's own.
 */
export function auditListStatement(q: AuditFilter, take: number): Prisma.Sql {
  const and: Prisma.Sql[] = [];
  if (q.actor) and.push(Prisma.sql`actor = ${q.actor}`);
  if (q.action)
    and.push(
      q.action.endsWith('.')
        ? Prisma.sql`action LIKE ${`${likeLiteral(q.action)}%`}`
        : Prisma.sql`action = ${q.action}`,
    );
  if (q.app)
    and.push(
      Prisma.sql`(target LIKE ${`${likeLiteral(q.app)}/%`} OR target LIKE ${`${likeLiteral(q.app)}@%`})`,
    );
  if (q.env) {
    const prefix = q.app ? `${q.app}/${q.env}` : null;
    and.push(
      prefix
        ? Prisma.sql`(target = ${prefix} OR target LIKE ${`${likeLiteral(prefix)}/%`})`
        : Prisma.sql`(target LIKE ${`%/${likeLiteral(q.env)}`} OR target LIKE ${`%/${likeLiteral(q.env)}/%`})`,
    );
  }
  if (q.hideSignIns) and.push(Prisma.sql`NOT (action LIKE 'auth.%')`);
  if (q.from) and.push(Prisma.sql`at >= ${new Date(q.from).toISOString()}::timestamptz`);
  if (q.to) and.push(Prisma.sql`at < ${new Date(q.to).toISOString()}::timestamptz`);
  if (q.cursor) {
    const c = decodeAuditCursor(q.cursor);
    and.push(keysetAfterSql({ at: c.at, id: c.id.toString() }, AUDIT_KEYSET));
  }
  // The page from the filter's index, then the version of what each entry is about by primary key
  // (was two more lookups through Prisma per page, half of an audit page's CPU).
  return Prisma.sql`SELECT a.*, ${VERSION} AS "_version"
      FROM (SELECT * FROM audit_entries
             ${and.length ? Prisma.sql`WHERE ${Prisma.join(and, ' AND ')}` : Prisma.empty}
             ORDER BY at DESC, id DESC LIMIT ${Math.max(0, Math.floor(take))}) a
     ORDER BY a.at DESC, a.id DESC`;
}

/**
 * A row of the audit page's statement, from pg (int8 as a string) or from Prisma's raw query
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
    version: (r._version as string | null) ?? null,
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
      return (await queryRows(auditListStatement(filter, take), db, root, raw.pool)).map(toAuditRow);
    },
    /** The cursor of the page that starts after `row`. */
    cursorAfter(row: { at: Date; id: bigint }): string {
      return encodeKey(row.at, row.id.toString());
    },
  };
}
export type AuditRepo = ReturnType<typeof createAuditRepo>;
