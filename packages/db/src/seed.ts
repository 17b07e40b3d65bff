import type { Db } from './client.ts';
import type { PrismaClient } from './generated/client.ts';

export interface DemoSeedOptions {
  /** Launcher command template for qubot-one (see packages/runtime). */
  launcher: string;
  launcherCwd?: string | null;
  /** Job launcher for deployment hooks (docs/hooks.md); placeholders {job} {version} {artifact} {environment}. */
  jobLauncher?: string | null;
}

export const DEMO_RELEASES = [
  { version: '1.0.0', artifact: 'qubot-one/healthy', changelog: '- First release of Qubot-One.' },
  {
    version: '1.1.0',
    artifact: 'qubot-one/healthy',
    changelog: '- Faster start-up.\n- Version shown in every response.',
  },
  { version: '1.2.0', artifact: 'qubot-one/healthy', changelog: '- Prometheus metrics on /metrics.' },
  {
    version: '1.3.0-faulty',
    artifact: 'qubot-one/faulty-5xx-30',
    changelog: '- New cache layer (answers 5xx on about 30 % of requests: a release for canary demos).',
  },
];

export const DEMO_ENVIRONMENTS = [
  { name: 'development', position: 0, protected: false },
  { name: 'staging', position: 1, protected: false },
  { name: 'production', position: 2, protected: true },
];

/**
 * Demo data for the quick start: application qubot-one, its three
 * environments and four releases. Idempotent: running it again changes nothing
 * that exists.
 */
export async function seedDemo(prisma: PrismaClient, opts: DemoSeedOptions) {
  return prisma.$transaction(async (tx: Db) => {
    const app = await tx.application.upsert({
      where: { name: 'qubot-one' },
      update: {},
      create: {
        name: 'qubot-one',
        description: 'Demo HTTP service deployed by Qubot Deploy',
        launcher: opts.launcher,
        launcherCwd: opts.launcherCwd ?? null,
        // Qubot-One names its version in every answer with this header; the smoke check reads it.
        versionHeader: 'x-qubot-version',
        jobLauncher: opts.jobLauncher ?? null,
      },
    });
    // A demo database from before job launchers existed gets the demo's one (an admin's is kept).
    if (opts.jobLauncher && !app.jobLauncher)
      await tx.application.update({ where: { id: app.id }, data: { jobLauncher: opts.jobLauncher } });
    for (const env of DEMO_ENVIRONMENTS) {
      await tx.environment.upsert({
        where: { applicationId_name: { applicationId: app.id, name: env.name } },
        update: {},
        create: { applicationId: app.id, ...env, replicas: 2 },
      });
    }
    for (const [i, rel] of DEMO_RELEASES.entries()) {
      await tx.release.upsert({
        where: { applicationId_version: { applicationId: app.id, version: rel.version } },
        update: {},
        create: {
          applicationId: app.id,
          ...rel,
          commit: ['a1b2c3d', 'b2c3d4e', 'c3d4e5f', 'd4e5f60'][i] ?? null,
          testResults: { passed: 120 + i * 4, failed: 0 },
          createdBy: 'seed',
          // Distinct, ordered creation times so "newest first" is stable.
          createdAt: new Date(Date.UTC(2026, 0, 1 + i)),
        },
      });
    }
    return app;
  });
}
