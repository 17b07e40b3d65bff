// DESIGN §9: losing the database makes /readyz fail and requests answer 503
// (never a 500), and the server recovers by itself when the database returns.
// This file runs its own embedded PostgreSQL so it can stop and restart it.
import { chmodSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createDatabase,
  ensureDatabase,
  migrate,
  removeEmbeddedData,
  seedDemo,
  startEmbeddedPostgres,
} from '@qubot/db';
import { afterAll, expect, it } from 'vitest';
import { loginAs } from '../../../../test/app.ts';
import { buildApp } from '../app.ts';
import { DEMO_LAUNCHER, REPO_ROOT } from '../demo.ts';
import { seedDemoUsers } from '../services/user-service.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'qubot-dbloss-'));
chmodSync(dataDir, 0o755); // as root, PostgreSQL runs as the postgres user
const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
  removeEmbeddedData(dataDir);
});

it('[API] database loss: /readyz fails, requests answer 503, and the server recovers by itself', async () => {
  let server = await startEmbeddedPostgres({ dataDir: join(dataDir, 'pg-data') });
  cleanups.push(() => server.stop());
  await ensureDatabase(server.adminUrl, 'qubot');
  const url = server.urlFor('qubot');
  await migrate(url);
  const db = createDatabase(url, { max: 4 });
  cleanups.push(() => db.close());
  await seedDemo(db.prisma, { launcher: DEMO_LAUNCHER, launcherCwd: REPO_ROOT });
  await seedDemoUsers(db);
  const app = await buildApp({ db, orchestrator: { dataDir: join(dataDir, 'runtime') } });
  await app.ready();
  cleanups.push(() => app.close());
  const auth = await loginAs(app, 'viewer');
  const get = (path: string) => app.inject({ method: 'GET', url: path, headers: auth });

  expect((await get('/readyz')).statusCode).toBe(200);
  expect((await get('/api/v1/apps')).statusCode).toBe(200);

  await server.stop();
  const ready = await get('/readyz');
  expect(ready.statusCode).toBe(503);
  expect(ready.json().checks.database).toBe('unreachable');
  for (const path of ['/api/v1/apps', '/api/v1/apps/qubot-one/environments', '/api/v1/deployments']) {
    const res = await get(path);
    expect(res.statusCode, `${path}: ${res.body}`).toBe(503);
    expect(res.json().error.code).toBe('unavailable');
    expect(res.body).not.toMatch(/ECONNREFUSED|stack|at /);
  }
  expect((await get('/healthz')).statusCode).toBe(200); // the process itself is alive

  // The database comes back (same data directory, same port): no restart of the API needed.
  server = await startEmbeddedPostgres({ dataDir: join(dataDir, 'pg-data') });
  await expect.poll(async () => (await get('/readyz')).statusCode, { timeout: 20_000 }).toBe(200);
  const apps = await get('/api/v1/apps');
  expect(apps.statusCode).toBe(200);
  expect(apps.json().items.map((a: { name: string }) => a.name)).toEqual(['qubot-one']);
}, 90_000);
