import { randomBytes } from 'node:crypto';
import { createDatabase, type Database } from '@qubot/db';
import pg from 'pg';
import { inject } from 'vitest';

declare module 'vitest' {
  export interface ProvidedContext {
    pgAdminUrl: string;
  }
}

export const TEMPLATE_DB = 'qubot_test_template';

/** A fresh, migrated database for one test file; `close()` drops it. */
export async function createTestDatabase(): Promise<Database & { name: string; drop(): Promise<void> }> {
  const adminUrl = inject('pgAdminUrl');
  const name = `qubot_t_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name} TEMPLATE ${TEMPLATE_DB}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const db = createDatabase(url.toString(), { max: 5 });
  return {
    ...db,
    name,
    async drop() {
      await db.close();
      const c = new pg.Client({ connectionString: adminUrl });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}
