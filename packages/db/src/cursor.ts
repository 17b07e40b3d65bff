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

export function encodeCursor(pos: CursorPos): string {
  return Buffer.from(JSON.stringify([pos.createdAt.toISOString(), pos.id])).toString('base64url');
}

export function decodeCursor(cursor: string): CursorPos {
  try {
    const [at, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown[];
    const createdAt = new Date(String(at));
    if (typeof at !== 'string' || typeof id !== 'string' || Number.isNaN(createdAt.getTime()) || !id) {
      throw new InvalidCursorError();
    }
    return { createdAt, id };
  } catch {
    throw new InvalidCursorError();
  }
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
