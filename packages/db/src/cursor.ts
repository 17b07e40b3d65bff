import { Prisma } from './generated/client.ts';

/** Keyset pagination: the cursor encodes the last row's (createdAt, id), newest first. */
export interface CursorPos {
  createdAt: Date;
  id: string;
}

export class InvalidCursorError extends Error {
  constructor() {
    super('cursor is malformed');
  }
}

/**
 * The one encoding of a keyset position: base64url of `[timestamp ISO, id]`. Pages ordered by
 * (createdAt, uuid) and the audit trail's (at, bigint id) both use it.
 */
export function encodeKey(at: Date, id: string): string {
  return Buffer.from(JSON.stringify([at.toISOString(), id])).toString('base64url');
}

/** The position a cursor encodes; InvalidCursorError for anything else (a 400, never a 500). */
export function decodeKey(cursor: string): { at: Date; id: string } {
  try {
    const [at, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown[];
    const date = new Date(String(at));
    if (typeof at !== 'string' || typeof id !== 'string' || Number.isNaN(date.getTime()) || !id) {
      throw new InvalidCursorError();
    }
    return { at: date, id };
  } catch {
    throw new InvalidCursorError();
  }
}

export function encodeCursor(pos: CursorPos): string {
  return encodeKey(pos.createdAt, pos.id);
}

export function decodeCursor(cursor: string): CursorPos {
  const { at, id } = decodeKey(cursor);
  return { createdAt: at, id };
}

/**
 * Prisma `where` fragment for rows strictly after the cursor in (createdAt desc, id desc) order.
 * The redundant `createdAt <= cursor` is what lets PostgreSQL start the index scan at the cursor
 * (the OR alone is only a filter: page n would read the n-1 pages before it first).
 */
export function afterCursor(cursor: string | undefined) {
  if (!cursor) return {};
  const { createdAt, id } = decodeCursor(cursor);
  return {
    createdAt: { lte: createdAt },
    OR: [{ createdAt: { lt: createdAt } }, { createdAt, id: { lt: id } }],
  };
}

/**
 * The key columns of a page in (time desc, id desc) order, as SQL spells them: the `(created_at,
 * id::uuid)` of most tables, the audit trail's `(at, id::bigint)`. A closed set of identifiers:
 * they are written into the statement, never taken from a request.
 */
export type KeysetColumns =
  | { time: 'created_at'; id: 'id'; idType: 'uuid' }
  | { time: 'at'; id: 'id'; idType: 'bigint' };

export const CREATED_AT_UUID: KeysetColumns = { time: 'created_at', id: 'id', idType: 'uuid' };

/**
 * SQL for rows strictly after the keyset position `key` in (time desc, id desc) order — the one
 * spelling of the condition for every statement read through the pg pool (raw-rows.ts
 * `queryRows`). The redundant `time <= key` lets PostgreSQL start the index scan at the position,
 * as in `afterCursor`.
 */
export function keysetAfterSql(key: { at: Date; id: string }, cols: KeysetColumns): Prisma.Sql {
  const at = key.at.toISOString();
  const time = Prisma.raw(cols.time);
  const id = Prisma.raw(cols.id);
  const cast = Prisma.raw(cols.idType);
  return Prisma.sql`${time} <= ${at}::timestamptz AND (${time} < ${at}::timestamptz OR (${time} = ${at}::timestamptz AND ${id} < ${key.id}::${cast}))`;
}

/** `afterCursor` as SQL over `(created_at, id::uuid)`. */
export function afterCursorSql(cursor: string): Prisma.Sql {
  return keysetAfterSql(decodeKey(cursor), CREATED_AT_UUID);
}

export const newestFirst = [{ createdAt: 'desc' as const }, { id: 'desc' as const }];

/** Take `limit + 1` rows, return a page and the cursor of its last row when more exist. */
export function page<T extends CursorPos>(
  rows: T[],
  limit: number,
): { items: T[]; nextCursor: string | null } {
  const items = rows.slice(0, limit);
  const last = items[items.length - 1];
  return { items, nextCursor: rows.length > limit && last ? encodeCursor(last) : null };
}
