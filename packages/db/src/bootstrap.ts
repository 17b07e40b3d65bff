import { join, resolve } from 'node:path';
import { createDatabase, type Database } from './client.ts';
import { type EmbeddedPostgres, ensureDatabase, startEmbeddedPostgres } from './embedded.ts';
import { migrate } from './migrate.ts';

export interface OpenOptions {
  /** External PostgreSQL; when unset an embedded server is started under `dataDir`. */
  databaseUrl?: string | undefined;
  /** QUBOT_DATA_DIR (default `.qubot` in the working directory). */
  dataDir?: string | undefined;
  log?: (line: string) => void;
  /** Database connections at most (QUBOT_DB_POOL_MAX). */
  poolSize?: number;
  /** How long a request waits for a free connection (QUBOT_DB_POOL_WAIT_MS). */
  poolWaitMs?: number;
}

export interface OpenedDatabase extends Database {
  embedded: EmbeddedPostgres | null;
  /** Closes the pool, then stops the embedded server if we started one. */
  shutdown(): Promise<void>;
}

export const defaultDataDir = () => resolve(process.env.QUBOT_DATA_DIR ?? join(process.cwd(), '.qubot'));

/** Resolve the database (external or embedded), apply migrations and connect. */
export async function openDatabase(opts: OpenOptions = {}): Promise<OpenedDatabase> {
  const log = opts.log ?? (() => {});
  let embedded: EmbeddedPostgres | null = null;
  let url = opts.databaseUrl;
  if (!url) {
    embedded = await startEmbeddedPostgres({ dataDir: opts.dataDir ?? defaultDataDir(), log });
    await ensureDatabase(embedded.adminUrl, 'qubot');
    url = embedded.urlFor('qubot');
  }
  try {
    const applied = await migrate(url);
    if (applied.length) log(`database: applied migrations ${applied.join(', ')}`);
  } catch (err) {
    await embedded?.stop();
    throw err;
  }
  const db = createDatabase(url, {
    ...(opts.poolSize ? { max: opts.poolSize } : {}),
    ...(opts.poolWaitMs ? { acquireTimeoutMs: opts.poolWaitMs } : {}),
  });
  return {
    ...db,
    embedded,
    async shutdown() {
      await db.close();
      await embedded?.stop();
    },
  };
}
