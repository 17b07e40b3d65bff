import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { type Prisma, PrismaClient } from './generated/client.ts';

export type Tx = Prisma.TransactionClient;
/** Anything that can run a query: the client itself or an open transaction. */
export type Db = PrismaClient | Tx;

export interface Database {
  prisma: PrismaClient;
  /** Raw pool for LISTEN/NOTIFY, health checks and backups. */
  pool: pg.Pool;
  url: string;
  close(): Promise<void>;
}

export function createDatabase(url: string, opts: { max?: number } = {}): Database {
  const pool = new pg.Pool({ connectionString: url, max: opts.max ?? 10, connectionTimeoutMillis: 5000 });
  // An idle client losing its server (database restart) must not crash the process;
  // the next query fails with a clear error and /readyz reports it.
  pool.on('error', () => {});
  const prisma = new PrismaClient({ adapter: new PrismaPg(pool) });
  let closed: Promise<void> | null = null;
  return {
    prisma,
    pool,
    url,
    close() {
      closed ??= (async () => {
        await prisma.$disconnect().catch(() => {});
        await pool.end().catch(() => {});
      })();
      return closed;
    },
  };
}
