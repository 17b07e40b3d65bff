import type { Db } from '../client.ts';
import { decodeKey, encodeKey, InvalidCursorError } from '../cursor.ts';
import type { Prisma } from '../generated/client.ts';

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

function where(q: AuditFilter): Prisma.AuditEntryWhereInput {
  const and: Prisma.AuditEntryWhereInput[] = [];
  if (q.actor) and.push({ actor: q.actor });
  if (q.action)
    and.push(q.action.endsWith('.') ? { action: { startsWith: q.action } } : { action: q.action });
  if (q.app)
    and.push({ OR: [{ target: { startsWith: `${q.app}/` } }, { target: { startsWith: `${q.app}@` } }] });
  if (q.env) {
    const prefix = q.app ? `${q.app}/${q.env}` : null;
    and.push(
      prefix
        ? { OR: [{ target: prefix }, { target: { startsWith: `${prefix}/` } }] }
        : { OR: [{ target: { endsWith: `/${q.env}` } }, { target: { contains: `/${q.env}/` } }] },
    );
  }
  if (q.hideSignIns) and.push({ NOT: { action: { startsWith: 'auth.' } } });
  if (q.from) and.push({ at: { gte: new Date(q.from) } });
  if (q.to) and.push({ at: { lt: new Date(q.to) } });
  if (q.cursor) {
    const c = decodeAuditCursor(q.cursor);
    // `at <= cursor` lets the index scan start at the cursor; the OR alone would only filter.
    and.push({ at: { lte: c.at } }, { OR: [{ at: { lt: c.at } }, { at: c.at, id: { lt: c.id } }] });
  }
  return { AND: and };
}

const ORDER = [{ at: 'desc' as const }, { id: 'desc' as const }];

/** The audit trail, read side (entries are appended with appendAudit in each action's transaction). */
export function createAuditRepo(root: Db) {
  return {
    /** Up to `take` entries after the filter's cursor, newest first. */
    find(filter: AuditFilter, take: number, db: Db = root) {
      return db.auditEntry.findMany({ where: where(filter), orderBy: ORDER, take });
    },
    /** The cursor of the page that starts after `row`. */
    cursorAfter(row: { at: Date; id: bigint }): string {
      return encodeKey(row.at, row.id.toString());
    },
  };
}
export type AuditRepo = ReturnType<typeof createAuditRepo>;
