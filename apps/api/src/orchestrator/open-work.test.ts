// The orchestrator's open work (start-up resume and the sweep) comes from listUnfinished, which
// reads only the partial index of deployments with work left (migration 20261202000500). A
// succeeded deployment still in its cleanup phase is part of it: lose its queued wake-up and the
// sweep must still find and finish it.
import { createDeploymentWriteRepo } from '@qubot/db';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { DRIVE_QUEUE } from './orchestrator.ts';
import { FAST, type Harness, startHarness } from './test-helpers.ts';

const FINAL = ['succeeded', 'failed', 'rolled_back', 'aborted'];
let h: Harness;
beforeAll(async () => {
  h = await startHarness();
}, 120_000);
afterAll(async () => {
  await h?.close();
});

async function waitFor<T>(
  what: string,
  probe: () => Promise<T | null | undefined>,
  timeout = 60_000,
): Promise<T> {
  const deadline = Date.now() + timeout;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

it('[ENGINE] open work: a succeeded deployment still cleaning up is resumed by the sweep after its wake-up is lost', async () => {
  const first = await h.deploy('development', {
    version: '1.0.0',
    strategy: 'blue-green',
    options: { ...FAST, autoSwitch: true },
  });
  expect((await h.until(first.id, FINAL)).status).toBe('succeeded');
  // A rollback window longer than the drive loop waits in place: the scale-down of the old
  // colour is handed to the job queue as a delayed wake-up.
  const d = await h.deploy('development', {
    version: '1.1.0',
    strategy: 'blue-green',
    options: { ...FAST, autoSwitch: true, rollbackWindowSeconds: 8 },
  });
  expect((await h.until(d.id, FINAL)).status).toBe('succeeded');
  const phase = async () =>
    ((await h.db.prisma.deployment.findUniqueOrThrow({ where: { id: d.id } })).state as { phase: string })
      .phase;
  expect(await phase()).toBe('cleanup');
  const unfinished = await createDeploymentWriteRepo(h.db.prisma).listUnfinished();
  expect(unfinished).toContainEqual({ id: d.id, environmentId: expect.any(String), status: 'succeeded' });
  expect(unfinished.map((r) => r.id)).not.toContain(first.id);

  const jobs = `SELECT id FROM pgboss.job WHERE name = $1 AND data->>'deploymentId' = $2 AND state = 'created'`;
  await waitFor(
    'the queued wake-up',
    async () => (await h.db.pool.query(jobs, [DRIVE_QUEUE, d.id])).rowCount,
  );
  // Lost (a queue restored from an old backup, a bug): only the sweep can find it now.
  await h.db.pool.query(`DELETE FROM pgboss.job WHERE name = $1 AND data->>'deploymentId' = $2`, [
    DRIVE_QUEUE,
    d.id,
  ]);

  await waitFor('the cleanup to finish', async () => (await phase()) === 'done');
  const steps = (await h.deployment(d.id)).steps as { name: string; status: string }[];
  expect(steps.at(-1)).toMatchObject({ status: 'succeeded' });
  const env = await h.environment('development');
  expect(env.instances.map((i: { version: string }) => i.version)).not.toContain('1.0.0');
  expect((await createDeploymentWriteRepo(h.db.prisma).listUnfinished()).map((r) => r.id)).not.toContain(
    d.id,
  );
}, 180_000);
