import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Database, seedDemo } from '@qubot/db';
import type { Logger } from 'pino';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
/** How the demo runs Qubot-One: the launcher template an admin would configure (DESIGN §4). */
export const DEMO_LAUNCHER =
  'node --import tsx apps/qubot-one/src/main.ts --artifact {artifact} --port {port} --pool {pool}';

export async function seedDemoData(db: Database, logger: Logger) {
  await seedDemo(db.prisma, { launcher: DEMO_LAUNCHER, launcherCwd: REPO_ROOT });
  logger.info('demo data ready: application qubot-one with development, staging and production');
}
