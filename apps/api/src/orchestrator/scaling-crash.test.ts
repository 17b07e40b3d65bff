// SIGKILL of the worker in the middle of a scale (docs/scaling.md "Crash safety"): the next worker
// resumes the scale from its stored state and finishes it — no orphan instance (every supervisor
// process has a running row, every running row a process), none started twice, and the count
// served is the count reported. Once while instances start (scale up), once while they drain and
// stop (scale down).
import type { ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLoad } from '../../../../test/load.ts';
import type { Orchestrator } from './orchestrator.ts';
import {
  APP,
  FAST,
  type Harness,
  settled,
  spawnWorkerProcess,
  startHarness,
  startWorker,
} from './test-helpers.ts';

const FINAL = ['succeeded', 'failed', 'rolled_back', 'aborted'];
const ENV = 'development';
let h: Harness;
let worker: ChildProcess | null = null;
let resumer: Orchestrator | null = null;

async function kill(child: ChildProcess | null) {
  if (!child || child.exitCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGKILL');
  await exited;
}

/** Supervisor processes of this test's runtime directory (their command line names the spec file). */
function supervisors(): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    let cmd = '';
    try {
      cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
    } catch {
      continue;
    }
    if (cmd.includes('supervisor-main') && cmd.includes(h.dataDir)) found.push(cmd);
  }
  return found;
}

async function expectNoOrphanNoDouble(replicas: number) {
  const running = await h.db.prisma.instance.findMany({
    where: { environment: { name: ENV }, status: { in: ['running', 'starting', 'unhealthy', 'stopping'] } },
  });
  expect(running.map((i) => i.status)).toEqual(Array(replicas).fill('running'));
  // Each running row has exactly one supervisor; no supervisor runs without a row.
  await expect
    .poll(() => supervisors().length, {
      timeout: 15_000,
      message: `supervisors ${JSON.stringify(supervisors())} for rows ${JSON.stringify(
        (await h.db.prisma.instance.findMany({ where: { environment: { name: ENV } } })).map((i) => [
          i.id,
          i.status,
        ]),
      )}`,
    })
    .toBe(replicas);
  const procs = supervisors();
  for (const i of running) expect(procs.filter((c) => c.includes(i.id)).length).toBe(1);
  const r = await h.db.prisma.environment.findFirstOrThrow({ where: { name: ENV } });
  expect(r.replicas).toBe(replicas);
  const served = (await h.app.orchestrator.runtime.providerFor(r)?.getConfig())?.pools.find(
    (p) => p.name === r.activeColor,
  );
  expect(served?.targets.slice().sort()).toEqual(running.map((i) => `127.0.0.1:${i.port}`).sort());
}

beforeAll(async () => {
  h = await startHarness({ worker: false });
  worker = spawnWorkerProcess(h);
  const d = await h.deploy(ENV, {
    version: '1.0.0',
    strategy: 'blue-green',
    options: { ...FAST, autoSwitch: true, rollbackWindowSeconds: 0 },
  });
  expect((await h.until(d.id, FINAL, 90_000)).status).toBe('succeeded');
  await settled(h, ENV);
}, 120_000);
afterAll(async () => {
  await kill(worker);
  await resumer?.stop();
  await h?.close();
});

describe('[SCALING] worker crash mid-scale', () => {
  it('SIGKILL while new instances start: the next worker finishes the scale, no orphan, none doubled', async () => {
    const env = await h.environment(ENV);
    const load = startLoad(env.address, { rps: 150 });
    const res = await h.post(`/apps/${APP}/environments/${ENV}/scale`, { replicas: 5 });
    expect(res.statusCode, res.body).toBe(202);
    const id = res.json().deployment.id as string;
    // The worst moment: rows for the new instances written, their processes being spawned.
    for (;;) {
      const n = await h.db.prisma.instance.count({ where: { deploymentId: id } });
      if (n >= 1) break;
      await new Promise((r) => setTimeout(r, 5));
    }
    await kill(worker);
    worker = null;
    expect((await h.deployment(id)).status).toBe('running');
    resumer = await startWorker(h);
    const done = await h.until(id, FINAL, 90_000);
    expect(done.status).toBe('succeeded');
    await expectNoOrphanNoDouble(5);
    const r = await load.stop();
    expect(r.failed, r.errors.slice(0, 5).join(', ')).toBe(0);
    console.log('scale-up crash', { requests: r.requests, failed: r.failed });
  }, 150_000);

  it('SIGKILL while surplus instances drain: the next worker stops them, none left running uncounted', async () => {
    await resumer?.stop();
    resumer = null;
    worker = spawnWorkerProcess(h);
    const env = await h.environment(ENV);
    const load = startLoad(env.address, { rps: 150 });
    const res = await h.post(`/apps/${APP}/environments/${ENV}/scale`, { replicas: 2 });
    expect(res.statusCode, res.body).toBe(202);
    const id = res.json().deployment.id as string;
    // Killed once the surplus is marked `stopping` (out of the routing, draining).
    for (;;) {
      const n = await h.db.prisma.instance.count({
        where: { environment: { name: ENV }, status: 'stopping' },
      });
      if (n >= 1) break;
      await new Promise((r) => setTimeout(r, 5));
    }
    await kill(worker);
    worker = null;
    resumer = await startWorker(h);
    const done = await h.until(id, FINAL, 90_000);
    expect(done.status).toBe('succeeded');
    await expectNoOrphanNoDouble(2);
    const r = await load.stop();
    expect(r.failed, r.errors.slice(0, 5).join(', ')).toBe(0);
  }, 150_000);
});
