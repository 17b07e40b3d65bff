// The authentication hook reads the request's Cookie header once: the session it looks up in the
// credential cache is the session it resolves on a miss (no second parse, no second answer).
// A real app on a real database; a hook ahead of every route counts reads of the header and gives
// any read after the first another session, so a second read would answer 401.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loginAs } from '../../../../test/app.ts';
import { createTestDatabase } from '../../../../test/db.ts';
import { buildApp } from '../app.ts';
import { seedDemoUsers } from '../services/user-service.ts';

let db: Awaited<ReturnType<typeof createTestDatabase>>;
let app: Awaited<ReturnType<typeof buildApp>>;
let backupDir: string;
let reads = 0;

beforeAll(async () => {
  db = await createTestDatabase();
  await seedDemoUsers(db);
  backupDir = mkdtempSync(join(tmpdir(), 'qubot-test-backups-'));
  app = await buildApp({ db, backups: { dir: backupDir, schedule: false } });
  app.addHook('onRequest', (request, _reply, done) => {
    if (request.headers['x-count-cookie-reads'] === undefined) return done();
    const sent = request.headers.cookie;
    Object.defineProperty(request.headers, 'cookie', {
      configurable: true,
      enumerable: true,
      get: () => (++reads === 1 ? sent : 'qubot_session=a-session-nobody-looked-up'),
    });
    done();
  });
  await app.ready();
});
afterAll(async () => {
  await app?.close();
  await db?.drop();
  rmSync(backupDir, { recursive: true, force: true });
});

describe('[security] authentication hook', () => {
  it('reads the session cookie once per request, on a credential-cache miss and on a hit', async () => {
    const headers = await loginAs(app, 'viewer');
    for (const round of ['first request', 'second request']) {
      reads = 0;
      const res = await app.inject({
        method: 'GET',
        url: '/api/v1/auth/me',
        headers: { ...headers, 'x-count-cookie-reads': '1' },
      });
      expect(res.statusCode, `${round}: ${res.body}`).toBe(200);
      expect(res.json()).toMatchObject({ username: 'viewer', role: 'viewer' });
      expect(reads, round).toBe(1);
    }
  });
});
