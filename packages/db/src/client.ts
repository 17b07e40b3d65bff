import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { type Prisma, PrismaClient } from './generated/client.ts';

export type Tx = Prisma.TransactionClient;
/** Anything that can run a query: the client itself or an open transaction. */
export type Db = PrismaClient | Tx;

/**
 * Independent reads of a repository method that takes `db` (the client `root`, or an open
 * transaction): all at once on the client, where each takes a pool connection of its own; one after
 * another in a transaction, whose one connection runs one statement at a time. (Prisma 6 already
 * runs a transaction's operations one by one, so a `Promise.all` there only looked parallel; this
 * says what happens, and does not depend on it.)
 */
export async function readAll<const T extends readonly (() => Promise<unknown>)[]>(
  db: Db,
  root: Db,
  reads: T,
): Promise<{ -readonly [K in keyof T]: Awaited<ReturnType<T[K]>> }> {
  type Out = { -readonly [K in keyof T]: Awaited<ReturnType<T[K]>> };
  if (db === root) return (await Promise.all(reads.map((read) => read()))) as Out;
  const out: unknown[] = [];
  for (const read of reads) out.push(await read());
  return out as Out;
}

export interface Database {
  prisma: PrismaClient;
  /** Raw pool for LISTEN/NOTIFY, health checks and backups. */
  pool: pg.Pool;
  /**
   * One connection of its own for readiness checks: a pool busy to its last connection is an
   * overloaded server, not an unreachable database, and /readyz must be able to tell.
   */
  probe: pg.Pool;
  url: string;
  /** Connections in `pool` at most (QUBOT_DB_POOL_MAX). */
  poolMax: number;
  close(): Promise<void>;
}

export interface PoolOptions {
  /** Connections at most (default 20). */
  max?: number;
  /** How long a request waits for a free connection before it is answered "overloaded" (default 5 s). */
  acquireTimeoutMs?: number;
}

/** pg-pool's error when every connection stayed busy for the whole wait: overload, not an outage. */
export const POOL_EXHAUSTED_MESSAGE = 'timeout exceeded when trying to connect';

/** How long an interactive transaction waits to start (for a connection) before "overloaded". */
export const TRANSACTION_MAX_WAIT_MS = 5_000;

export function isPoolExhausted(err: unknown): boolean {
  const e = err as { message?: string; code?: string; cause?: unknown } | null;
  if (!e) return false;
  if (typeof e.message === 'string' && e.message.includes(POOL_EXHAUSTED_MESSAGE)) return true;
  // Prisma's interactive transaction could not get a connection within its maxWait.
  if (e.code === 'P2028' && /Unable to start a transaction in the given time/i.test(e.message ?? ''))
    return true;
  return e.cause ? isPoolExhausted(e.cause) : false;
}

type PgTransaction = Awaited<ReturnType<Awaited<ReturnType<PrismaPg['connect']>>['startTransaction']>>;

/**
 * Prisma's pg adapter whose interactive transactions hand their one connection one statement at a
 * time. Prisma's query interpreter loads an `include` of two or more relations with one query per
 * relation, all at once (its `join` node is a `Promise.all`): on the pool each gets a connection
 * of its own, but inside `$transaction` they all land on the transaction's one `pg` client, which
 * queues them itself — deprecated in pg 8 (a DeprecationWarning) and an error in pg 9. Outside
 * transactions nothing changes: the pool stays parallel. Our own code does not lean on this
 * queue: a repository or service reading several things inside a transaction awaits them in turn.
 */
class OneQueryPerTransaction extends PrismaPg {
  override async connect() {
    const adapter = await super.connect();
    const start = adapter.startTransaction.bind(adapter);
    adapter.startTransaction = async (isolationLevel) => oneAtATime(await start(isolationLevel));
    return adapter;
  }
}

function oneAtATime(tx: PgTransaction): PgTransaction {
  // Settles when the last statement handed over has; never rejects, so one failed statement does
  // not fail the ones queued behind it (Prisma sends ROLLBACK through here too).
  let idle: Promise<unknown> = Promise.resolve();
  const inTurn = <T>(run: () => Promise<T>): Promise<T> => {
    const turn = idle.then(run);
    idle = turn.catch(() => {});
    return turn;
  };
  const queryRaw = tx.queryRaw.bind(tx);
  const executeRaw = tx.executeRaw.bind(tx);
  tx.queryRaw = (query) => inTurn(() => queryRaw(query));
  tx.executeRaw = (query) => inTurn(() => executeRaw(query));
  return tx;
}

export function createDatabase(url: string, opts: PoolOptions = {}): Database {
  const max = opts.max ?? 20;
  const pool = new pg.Pool({
    connectionString: url,
    max,
    connectionTimeoutMillis: opts.acquireTimeoutMs ?? 5000,
  });
  const probe = new pg.Pool({ connectionString: url, max: 1, connectionTimeoutMillis: 5000 });
  // An idle client losing its server (database restart) must not crash the process;
  // the next query fails with a clear error and /readyz reports it.
  pool.on('error', () => {});
  probe.on('error', () => {});
  const prisma = new PrismaClient({ adapter: new OneQueryPerTransaction(pool) });
  let closed: Promise<void> | null = null;
  return {
    prisma,
    pool,
    probe,
    url,
    poolMax: max,
    close() {
      closed ??= (async () => {
        await prisma.$disconnect().catch(() => {});
        await pool.end().catch(() => {});
        await probe.end().catch(() => {});
      })();
      return closed;
    },
  };
}

export interface TransactionOptions {
  /** Longest the transaction may run (Prisma's default: 5 s). */
  timeout?: number;
  /** Longest it waits for a connection to start (Prisma's default: 2 s). */
  maxWait?: number;
}

/**
 * Runs `fn` in one interactive transaction: what a service gets instead of the client. The
 * repositories take the `tx` it hands over as their trailing argument.
 */
export type Transact = <T>(fn: (tx: Tx) => Promise<T>, opts?: TransactionOptions) => Promise<T>;

export function createTransact(prisma: PrismaClient): Transact {
  return (fn, opts) => (opts ? prisma.$transaction(fn, opts) : prisma.$transaction(fn));
}

/**
 * `SET LOCAL lock_timeout`: for the rest of the transaction, a statement waiting longer than `ms`
 * for a lock fails; 0 waits without bound (PostgreSQL's default).
 */
export async function setLockTimeout(tx: Tx, ms: number): Promise<void> {
  if (!Number.isSafeInteger(ms) || ms < 0)
    throw new RangeError(`lock timeout ${ms} is not a whole number of ms`);
  await tx.$executeRawUnsafe(`SET LOCAL lock_timeout = ${ms}`);
}
