// Starts one PostgreSQL for the whole test run (embedded unless
// QUBOT_TEST_DATABASE_URL points at a server) and prepares a migrated template
// database; each test file clones it (CREATE DATABASE ... TEMPLATE), which
// takes milliseconds.
import { join } from 'node:path';
import { ensureDatabase, migrate, removeEmbeddedData, startEmbeddedPostgres } from '@qubot/db';
import pg from 'pg';
import type { TestProject } from 'vitest/node';

import { TEMPLATE_DB } from './db.ts';

export default async function setup(project: TestProject) {
  let adminUrl = process.env.QUBOT_TEST_DATABASE_URL;
  let stop: (() => Promise<void>) | undefined;
  if (!adminUrl) {
    const dataDir = join(process.cwd(), '.qubot-test', `pg-${process.pid}`);
    // An earlier run's, and its cluster wherever pg.json says it is.
    removeEmbeddedData(dataDir);
    const server = await startEmbeddedPostgres({ dataDir });
    adminUrl = server.adminUrl;
    stop = async () => {
      await server.stop();
      // With the cluster, also when it lives outside the data directory (running as root).
      removeEmbeddedData(dataDir);
    };
  }
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${TEMPLATE_DB} WITH (FORCE)`);
  await admin.end();
  await ensureDatabase(adminUrl, TEMPLATE_DB);
  const templateUrl = new URL(adminUrl);
  templateUrl.pathname = `/${TEMPLATE_DB}`;
  await migrate(templateUrl.toString());
  project.provide('pgAdminUrl', adminUrl);
  return async () => {
    await stop?.();
  };
}
