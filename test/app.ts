import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { seedDemo } from '@qubot/db';
import { type AppOptions, buildApp } from '../apps/api/src/app.ts';
import { DEMO_JOB_LAUNCHER, DEMO_LAUNCHER, REPO_ROOT } from '../apps/api/src/demo.ts';
import type { RoleName } from '../apps/api/src/lib/request-context.ts';
import { DEMO_USERS, seedDemoUsers } from '../apps/api/src/services/user-service.ts';
import { createTestDatabase } from './db.ts';

type App = Awaited<ReturnType<typeof buildApp>>;

/** Headers that authenticate a request as a signed-in user: session cookie + CSRF token. */
export type AuthHeaders = { cookie: string; 'x-csrf-token': string };

/**
 * Sign in through POST /api/v1/auth/login as the demo user of `role`
 * (seeded by buildTestApp) or as `{ username, password }`, and return the
 * headers to send with app.inject. Each call opens a new session.
 */
export async function loginAs(
  app: App,
  who: RoleName | { username: string; password: string },
): Promise<AuthHeaders> {
  const creds =
    typeof who === 'string'
      ? (DEMO_USERS.find((u) => u.role === who) as { username: string; password: string })
      : who;
  const res = await app.inject({
    method: 'POST',
    url: '/api/v1/auth/login',
    payload: { username: creds.username, password: creds.password },
  });
  if (res.statusCode !== 200)
    throw new Error(`login as ${creds.username} failed: ${res.statusCode} ${res.body}`);
  const cookies = res.cookies as Array<{ name: string; value: string }>;
  const session = cookies.find((c) => c.name === 'qubot_session')?.value;
  const csrf = cookies.find((c) => c.name === 'qubot_csrf')?.value;
  if (!session || !csrf) throw new Error('login did not set the session cookies');
  return { cookie: `qubot_session=${session}; qubot_csrf=${csrf}`, 'x-csrf-token': csrf };
}

/**
 * Build the API on a fresh database, seeded with the demo data and the four
 * demo users (admin, release-manager, deployer, viewer; password
 * `demo-<username>`) unless `seed: false`; close() tears both down.
 * `t.as(role)` returns cached auth headers for that role.
 */
export async function buildTestApp(opts: { seed?: boolean; app?: Partial<Omit<AppOptions, 'db'>> } = {}) {
  const db = await createTestDatabase();
  if (opts.seed !== false) {
    await seedDemo(db.prisma, {
      launcher: DEMO_LAUNCHER,
      launcherCwd: REPO_ROOT,
      jobLauncher: DEMO_JOB_LAUNCHER,
    });
    await seedDemoUsers(db);
  }
  // Tests sign in often from one address; the rate-limit test sets its own limit.
  // Backups go to a directory of this app's own; no schedule unless a test asks for one.
  const backupDir = mkdtempSync(join(tmpdir(), 'qubot-test-backups-'));
  const app = await buildApp({
    loginRateLimit: { max: 10_000, timeWindowMs: 60_000 },
    ...opts.app,
    backups: { dir: backupDir, schedule: false, ...opts.app?.backups },
    db,
  });
  await app.ready();
  const cache = new Map<RoleName, Promise<AuthHeaders>>();
  return {
    app,
    db,
    backupDir,
    /** Auth headers for the demo user of `role` (one session per role, reused). */
    as(role: RoleName): Promise<AuthHeaders> {
      let h = cache.get(role);
      if (!h) {
        h = loginAs(app, role);
        cache.set(role, h);
      }
      return h;
    },
    async close() {
      await app.close();
      await db.drop();
      rmSync(backupDir, { recursive: true, force: true });
    },
  };
}
