import { seedDemo } from '@qubot/db';
import { buildApp } from '../apps/api/src/app.ts';
import { DEMO_LAUNCHER, REPO_ROOT } from '../apps/api/src/demo.ts';
import { createTestDatabase } from './db.ts';

/** Build the API on a fresh database (optionally seeded with the demo data); close() tears both down. */
export async function buildTestApp(opts: { seed?: boolean } = {}) {
  const db = await createTestDatabase();
  if (opts.seed !== false) await seedDemo(db.prisma, { launcher: DEMO_LAUNCHER, launcherCwd: REPO_ROOT });
  const app = await buildApp({ db });
  await app.ready();
  return {
    app,
    db,
    async close() {
      await app.close();
      await db.drop();
    },
  };
}
