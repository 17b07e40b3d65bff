import { createHash } from 'node:crypto';
import type { Db } from '../client.ts';
import type { Prisma } from '../generated/client.ts';

/** A pg pool (or anything with its `query`): list reads go through it outside a transaction. */
export interface RawQueryable {
  query(
    query: string | { name?: string; text: string; values: unknown[] },
    values?: unknown[],
  ): Promise<{ rows: Record<string, unknown>[] }>;
}

// Statement names by text. A list's statement text depends only on which filters are set (a few
// dozen shapes), never on their values, so the map stays small; it is bounded all the same.
const statementNames = new Map<string, string>();
function statementName(text: string): string | undefined {
  let name = statementNames.get(text);
  if (name === undefined) {
    if (statementNames.size >= 500) return undefined;
    name = `qubot_${createHash('sha1').update(text).digest('hex').slice(0, 20)}`;
    statementNames.set(text, name);
  }
  return name;
}

// Column names are a fixed, small set: each is converted once, not once per row of every page.
const camelNames = new Map<string, string>();
const camel = (k: string) => {
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
 *
 * On the pool the statement is prepared once per connection (named by its text): planning a page's
 * statement took 0.8–1.3 ms, as long as running it (EXPLAIN in bench/README.md).
 */
export async function queryRows(
  statement: Prisma.Sql,
  db: Db,
  root: Db,
  pool: RawQueryable | undefined,
): Promise<Record<string, unknown>[]> {
  return pool && db === root
    ? (
        await pool.query({
          name: statementName(statement.text),
          text: statement.text,
          values: statement.values,
        })
      ).rows
    : db.$queryRaw<Record<string, unknown>[]>(statement);
}
