import type { Db } from '../client.ts';
import type { Prisma } from '../generated/client.ts';

/** A pg pool (or anything with its `query`): list reads go through it outside a transaction. */
export interface RawQueryable {
  query(text: string, values: unknown[]): Promise<{ rows: Record<string, unknown>[] }>;
}

// Column names are a fixed, small set: each is converted once, not once per row of every page.
const camelNames = new Map<string, string>();
export const camel = (k: string) => {
  let c = camelNames.get(k);
  if (c === undefined) {
    c = k.replace(/_([a-z])/g, (_, ch: string) => ch.toUpperCase());
    if (camelNames.size < 1_000) camelNames.set(k, c);
  }
  return c;
};

/** A raw row's own columns camelCased, as Prisma names them; `_`-prefixed helper columns left out. */
export function camelRow(raw: Record<string, unknown>): Record<string, unknown> {
  const row: Record<string, unknown> = {};
  for (const k in raw) if (k.charCodeAt(0) !== 95 /* _ */) row[camel(k)] = raw[k];
  return row;
}

/**
 * Runs a read statement: outside a transaction on the pg pool itself (Prisma's raw-result mapping
 * was a quarter of a history read's CPU — bench/README.md, "History at scale"), inside one through
 * the transaction's client. The rows differ only in int8 columns (strings from the pool, BigInt
 * through Prisma): readers use Number() on them.
 */
export async function queryRows(
  statement: Prisma.Sql,
  db: Db,
  root: Db,
  pool: RawQueryable | undefined,
): Promise<Record<string, unknown>[]> {
  return pool && db === root
    ? (await pool.query(statement.text, statement.values)).rows
    : db.$queryRaw<Record<string, unknown>[]>(statement);
}
