// Starts one PostgreSQL for the whole test run (embedded unless
// QUBOT_TEST_DATABASE_URL points at a server) and prepares a migrated template
// database; each test file clones it (CREATE DATABASE ... TEMPLATE), which
// takes milliseconds.
import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ensureDatabase, migrate, startEmbeddedPostgres } from '@qubot/db';
import pg from 'pg';
import type { TestProject } from 'vitest/node';

import { TEMPLATE_DB } from './db.ts';

export default async function setup(project: TestProject) {
  let adminUrl = process.env.QUBOT_TEST_DATABASE_URL;
  let stop: (() => Promise<void>) | undefined;
  if (!adminUrl) {
    const dataDir = join(process.cwd(), '.qubot-test', `pg-${process.pid}`);
    rmSync(dataDir, { recursive: true, force: true });
    const server = await startEmbeddedPostgres({ dataDir });
    adminUrl = server.adminUrl;
    stop = async () => {
      await server.stop();
      rmSync(dataDir, { recursive: true, force: true });
      // Outside the data directory when the postgres user could not reach it (running as root).
      rmSync(
        server.clusterDir.startsWith('/var/lib/qubot/') ? dirname(server.clusterDir) : server.clusterDir,
        {
          recursive: true,
          force: true,
        },
      );
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
