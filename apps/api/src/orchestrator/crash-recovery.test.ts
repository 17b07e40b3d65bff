// The control plane is killed with SIGKILL in the middle of a rolling update: the environment
// keeps serving (router and instances are their own processes), and the next worker resumes the
// deployment from its stored state, without doing any step twice. Through each traffic provider:
// the Node router and HAProxy are both adopted by the next worker.
import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLoad } from '../../../../test/load.ts';
import type { Orchestrator } from './orchestrator.ts';
import {
  FAST,
  type Harness,
  listenerOf,
  setTrafficProvider,
  spawnWorkerProcess,
  startHarness,
  startWorker,
} from './test-helpers.ts';

describe.each(['node', 'haproxy'] as const)('[ENGINE] control plane crash, %s provider', (provider) => {
  let h: Harness;
  let worker: ChildProcess | null = null;
  let resumer: Orchestrator | null = null;
  const FINAL = ['succeeded', 'failed', 'rolled_back', 'aborted'];

  beforeAll(async () => {
    // This process is only the API (it enqueues); the worker is the child we will kill.
    h = await startHarness({ worker: false });
    // No router yet: the setting alone, the first deployment starts this provider.
    await setTrafficProvider(h, 'development', provider);
    const staging = await h.db.prisma.environment.findFirstOrThrow({ where: { name: 'development' } });
    await h.db.prisma.environment.update({ where: { id: staging.id }, data: { replicas: 4 } });
    worker = spawnWorkerProcess(h);
    const d = await h.deploy('development', { version: '1.0.0', strategy: 'blue-green', options: FAST });
    expect((await h.until(d.id, FINAL, 90_000)).status).toBe('succeeded');
  }, 120_000);

  afterAll(async () => {
    if (worker && worker.exitCode === null) worker.kill('SIGKILL');
    await resumer?.stop();
    await h?.close();
  });

  it('SIGKILL mid rolling update: keeps serving, then completes after restart with no step done twice', async () => {
    const env = await h.environment('development');
    const router = await listenerOf(env.address);
    expect(router?.command).toBe(provider === 'haproxy' ? 'haproxy' : 'node');
    const load = startLoad(env.address);
    const d = await h.deploy('development', {
      version: '1.1.0',
      strategy: 'rolling',
      options: { ...FAST, maxSurge: 1, maxUnavailable: 0, pauseBetweenBatchesSeconds: 1 },
    });
    // Kill the worker while batch 2 of 4 is under way.
    const deadline = Date.now() + 60_000;
    let mid: { steps: { name: string; status: string; startedAt: string | null }[] } | null = null;
    while (Date.now() < deadline) {
      mid = await h.deployment(d.id);
      if (mid?.steps.find((s) => s.name.startsWith('Batch 2'))?.status === 'running') break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(mid?.steps.find((s) => s.name.startsWith('Batch 2'))?.status).toBe('running');
    const killedAt = Date.now();
    worker?.kill('SIGKILL');
    await new Promise<void>((resolve) => worker?.once('exit', () => resolve()));
    const batch1 = mid?.steps.find((s) => s.name.startsWith('Batch 1'));

    // Nobody drives the deployment now; the environment keeps serving through its router.
    const afterKill = load.mark();
    await expect.poll(() => load.since(afterKill).requests, { timeout: 10_000 }).toBeGreaterThan(300);
    expect(load.since(afterKill).failed).toBe(0);
    expect((await h.deployment(d.id)).status).toBe('running');

    // A new worker starts: it re-adopts the router and instances and resumes the deployment.
    resumer = await startWorker(h);
    const done = await h.until(d.id, FINAL, 90_000);
    const r = await load.stop();
    expect(done.status).toBe('succeeded');
    expect(r.failed, r.errors.join(', ')).toBe(0);
    expect(Object.keys(load.since(r.requests - 50).versions)).toEqual(['1.1.0']);

    const steps = done.steps as { name: string; status: string; startedAt: string | null }[];
    const batches = steps.filter((s) => s.name.startsWith('Batch'));
    expect(batches.map((s) => s.status)).toEqual(['succeeded', 'succeeded', 'succeeded', 'succeeded']);
    // Work finished before the crash was not redone: batch 1 kept its start time.
    expect(batches[0]?.startedAt).toBe(batch1?.startedAt);
    // Exactly 4 instances of 1.1.0 were ever started, and they all run; 4 of 1.0.0 were stopped.
    // (A row is written before its process is spawned: if the kill landed in between, that row never
    // got a process and is closed as stopped on resume — it never ran, and it is not shown as an
    // instance the environment has. One whose files were written is started under that same row.)
    const rows = await h.db.prisma.instance.findMany({ where: { deploymentId: d.id } });
    const started = rows.filter((i) => i.supervisorPid !== null);
    expect(started.map((i) => i.status).sort()).toEqual(['running', 'running', 'running', 'running']);
    for (const never of rows.filter((i) => i.supervisorPid === null)) expect(never.status).toBe('stopped');
    expect(rows.length).toBeLessThanOrEqual(5);
    const envAfter = await h.environment('development');
    expect(envAfter.instances.map((i: { version: string }) => i.version)).toEqual(Array(4).fill('1.1.0'));
    // The router that served before the crash was adopted, not replaced: same process, no outage.
    expect(await listenerOf(env.address)).toEqual(router);
    const row = await h.db.prisma.environment.findFirstOrThrow({ where: { name: 'development' } });
    expect(row).toMatchObject({ routerPid: router?.pid, routerStatus: 'up', routerRestarts: 0 });
    console.log(`crash recovery (${provider})`, {
      requests: r.requests,
      failed: r.failed,
      rps: r.rps,
      resumedInMs: Date.now() - killedAt,
    });
  }, 150_000);
});
