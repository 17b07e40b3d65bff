// A full connection pool is overload, not an outage (issue 8, item 11): requests that cannot get
// a connection in time answer 503 "overloaded" with Retry-After, /readyz stays ready (it has a
// connection of its own), and the pool size comes from the settings.
import { createDatabase, isPoolExhausted, seedDemo } from '@qubot/db';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loginAs } from '../../../../test/app.ts';
import { createTestDatabase } from '../../../../test/db.ts';
import { buildApp } from '../app.ts';
import { loadConfig } from '../config.ts';
import { DEMO_LAUNCHER, REPO_ROOT } from '../demo.ts';
import { seedDemoUsers } from '../services/user-service.ts';

let fresh: Awaited<ReturnType<typeof createTestDatabase>>;
let small: ReturnType<typeof createDatabase>;
let app: Awaited<ReturnType<typeof buildApp>>;

beforeAll(async () => {
  fresh = await createTestDatabase();
  await seedDemo(fresh.prisma, { launcher: DEMO_LAUNCHER, launcherCwd: REPO_ROOT });
  await seedDemoUsers(fresh);
  small = createDatabase(fresh.url, { max: 2, acquireTimeoutMs: 300 });
  app = await buildApp({ db: small, loginRateLimit: { max: 10_000, timeWindowMs: 60_000 } });
  await app.ready();
});
afterAll(async () => {
  await app?.close();
  await small?.close();
  await fresh?.drop();
});

describe('[POOL] database pool', () => {
  it('QUBOT_DB_POOL_MAX and QUBOT_DB_POOL_WAIT_MS size the pool; bad values are refused naming the setting', () => {
    expect(loadConfig([], {})).toMatchObject({ dbPoolMax: 20, dbPoolWaitMs: 5000 });
    expect(loadConfig([], { QUBOT_DB_POOL_MAX: '40', QUBOT_DB_POOL_WAIT_MS: '1500' })).toMatchObject({
      dbPoolMax: 40,
      dbPoolWaitMs: 1500,
    });
    expect(() => loadConfig([], { QUBOT_DB_POOL_MAX: '0' })).toThrow(
      /QUBOT_DB_POOL_MAX must be a positive integer/,
    );
    expect(small.poolMax).toBe(2);
  });

  it('every connection busy: 503 "overloaded" with Retry-After, not "database unavailable"; /readyz stays ready', async () => {
    const viewer = await loginAs(app, 'viewer');
    const held: pg.PoolClient[] = [await small.pool.connect(), await small.pool.connect()];
    try {
      const res = await app.inject({ method: 'GET', url: '/api/v1/apps', headers: viewer });
      expect(res.statusCode, res.body).toBe(503);
      expect(res.headers['retry-after']).toBe('2');
      expect(res.json().error).toMatchObject({ code: 'unavailable', details: { reason: 'overloaded' } });
      expect(res.json().error.message).toMatch(/server is overloaded/);
      expect(res.body).not.toMatch(/database is unavailable/);
      // A transaction that cannot start in time is the same overload (Prisma's P2028).
      const tx = await small.prisma.$transaction(async () => 1, { maxWait: 200 }).catch((e: unknown) => e);
      expect(isPoolExhausted(tx)).toBe(true);
      const ready = await app.inject({ method: 'GET', url: '/readyz' });
      expect(ready.statusCode, ready.body).toBe(200);
      expect(ready.json().status).toBe('ready');
    } finally {
      for (const c of held) c.release();
    }
    const after = await app.inject({ method: 'GET', url: '/api/v1/apps', headers: viewer });
    expect(after.statusCode, after.body).toBe(200);
  });

  it('many concurrent harmless requests on a pool of 2 queue for a connection instead of failing', async () => {
    const viewer = await loginAs(app, 'viewer');
    const urls = ['/api/v1/apps', '/api/v1/apps/qubot-one/environments', '/api/v1/apps/qubot-one/releases'];
    const all = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        app.inject({ method: 'GET', url: urls[i % urls.length] as string, headers: viewer }),
      ),
    );
    const statuses = all.map((r) => r.statusCode);
    expect(all.filter((r) => /database is unavailable/.test(r.body))).toHaveLength(0);
    expect(statuses.filter((s) => s !== 200 && s !== 503)).toEqual([]);
  });
});
