// When the promotion policy runner acts, against the real server and database: a stored event (a
// policy saved, a release registered) brings the next sweep forward to the coalescing delay. The
// safety sweep here is ten minutes away, so a release deployed within the test's bound was
// deployed because of its event (an e2e run once waited for the 30 s safety sweep: a poke while
// that timer was armed was dropped).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp } from '../../../../test/app.ts';
import { DEMO_LAUNCHER, REPO_ROOT } from '../demo.ts';

const APP = 'qubot-timing';

let t: Awaited<ReturnType<typeof buildTestApp>>;
beforeAll(async () => {
  t = await buildTestApp({
    app: {
      orchestrator: { worker: false },
      policies: { run: true, safetyIntervalMs: 600_000, coalesceMs: 100 },
    },
  });
  // An application of its own (the seeded one has releases with passing tests already).
  const res = await t.app.inject({
    method: 'POST',
    url: '/api/v1/apps',
    headers: await t.as('admin'),
    payload: {
      name: APP,
      launcher: DEMO_LAUNCHER,
      launcherCwd: REPO_ROOT,
      environments: [{ name: 'development', replicas: 1 }],
    },
  });
  expect(res.statusCode, res.body).toBe(201);
});
afterAll(async () => {
  await t.close();
});

const runner = () => {
  const r = t.app.policies.runner;
  if (!r) throw new Error('the runner should run');
  return r;
};

/**
 * Sweeps until `done` holds; each wait is for a sweep the events started, never a sleep. Fails
 * when no sweep comes within 15 s (the safety sweep is ten minutes away).
 */
async function sweepsUntil(done: () => Promise<boolean>): Promise<void> {
  for (;;) {
    const next = runner().nextSweep();
    if (await done()) return;
    let bound: NodeJS.Timeout | undefined;
    await Promise.race([
      next,
      new Promise<never>((_, reject) => {
        bound = setTimeout(() => reject(new Error('no sweep within 15 s of the last event')), 15_000);
      }),
    ]).finally(() => clearTimeout(bound));
  }
}

describe('[policies] evaluation timing', () => {
  it('a release registered after the policy was saved is deployed on its event, not at the safety sweep', async () => {
    // The start-up sweep armed the ten-minute safety timer.
    await sweepsUntil(async () => runner().sweeps() > 0);
    const saved = await t.app.inject({
      method: 'PUT',
      url: `/api/v1/apps/${APP}/environments/development/policy`,
      headers: await t.as('admin'),
      payload: { mode: 'auto', strategy: 'rolling' },
    });
    expect(saved.statusCode, saved.body).toBe(200);
    // The policy's own event sweeps (nothing to deploy yet): the timer stays armed afterwards.
    const before = runner().sweeps();
    await sweepsUntil(async () => runner().sweeps() > before);

    const registered = Date.now();
    const res = await t.app.inject({
      method: 'POST',
      url: `/api/v1/apps/${APP}/releases`,
      headers: await t.as('release-manager'),
      payload: { version: '7.1.0', artifact: 'qubot-one/healthy', testResults: { passed: 5, failed: 0 } },
    });
    expect(res.statusCode, res.body).toBe(201);
    await sweepsUntil(
      async () =>
        (await t.db.prisma.deployment.count({
          where: { actor: 'policy:development', release: { version: '7.1.0' } },
        })) === 1,
    );
    const deployment = await t.db.prisma.deployment.findFirstOrThrow({
      where: { actor: 'policy:development', release: { version: '7.1.0' } },
    });
    // Bounded far below the safety sweep: the event, not the timer, started it.
    expect(deployment.createdAt.getTime() - registered).toBeLessThan(10_000);
  }, 30_000);
});
