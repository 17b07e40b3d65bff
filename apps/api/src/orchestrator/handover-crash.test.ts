// The worker doing a traffic provider handover is killed with SIGKILL at different points of it
// (just after the change committed, while the old router stops, while the new one starts). The
// next worker finishes the handover: one router serves the address, of the provider the database
// names, adopted rather than doubled; the instances are untouched; the change is audited once.
import type { ChildProcess } from 'node:child_process';
import { isAlive } from '@qubot/runtime';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startLoad } from '../../../../test/load.ts';
import type { Orchestrator } from './orchestrator.ts';
import {
  FAST,
  type Harness,
  listenerOf,
  recordingLog,
  routerProcessesOf,
  setTrafficProvider,
  spawnWorkerProcess,
  startHarness,
  startWorker,
} from './test-helpers.ts';

let h: Harness;
let worker: ChildProcess | null = null;
let resumer: Orchestrator | null = null;
const FINAL = ['succeeded', 'failed', 'rolled_back', 'aborted'];
const ENV = 'development';

const row = () => h.db.prisma.environment.findFirstOrThrow({ where: { name: ENV } });

const routerProcesses = () => routerProcessesOf(h.dataDir);

beforeAll(async () => {
  h = await startHarness({ worker: false, routingTimeoutMs: 8_000 });
  worker = spawnWorkerProcess(h);
  const d = await h.deploy(ENV, { version: '1.0.0', strategy: 'rolling', options: FAST });
  expect((await h.until(d.id, FINAL, 90_000)).status).toBe('succeeded');
}, 120_000);

afterAll(async () => {
  if (worker && worker.exitCode === null) worker.kill('SIGKILL');
  await resumer?.stop();
  await h?.close();
});

it('[ENGINE] SIGKILL of the worker mid-handover: the next worker finishes it; one router, adopted; nothing lost or doubled', async () => {
  const env = await h.environment(ENV);
  const instancesBefore = env.instances.map((i: { id: string }) => i.id).sort();
  const load = startLoad(env.address);
  // Kill points: the worker has taken the handover job; the new router process exists (before
  // it is recorded); the new router serves the address (before the row says so).
  const points = ['job taken', 'new router started', 'new router serving'] as const;
  for (const [round, point] of points.entries()) {
    if (round > 0) {
      await resumer?.stop();
      resumer = null;
      worker = spawnWorkerProcess(h);
    }
    const before = await row();
    const to = before.trafficProvider === 'node' ? 'haproxy' : 'node';
    const audits = await h.db.prisma.auditEntry.count({ where: { action: 'environment.traffic_provider' } });
    const change = setTrafficProvider(h, ENV, to, null);
    const reached = async () => {
      if (point === 'job taken') {
        const jobs = await h.db.prisma.$queryRaw<{ state: string }[]>`
          SELECT state::text AS state FROM pgboss.job WHERE name = 'environment-routing'
           ORDER BY created_on DESC LIMIT 1`;
        return jobs[0]?.state === 'active';
      }
      if (point === 'new router started') {
        return to === 'haproxy' ? routerProcesses().haproxy.length > 0 : routerProcesses().node.length > 0;
      }
      const l = await listenerOf(env.address);
      return l !== null && l.pid !== before.routerPid;
    };
    let hit = false;
    for (let i = 0; i < 20_000 && !hit; i++) {
      hit = await reached();
      if ((await row()).routerStatus === 'up' && (await row()).trafficProvider === to) break;
    }
    const child = worker as ChildProcess;
    child.kill('SIGKILL');
    await new Promise<void>((resolve) =>
      child.exitCode !== null ? resolve() : child.once('exit', () => resolve()),
    );
    const at = await row();
    const answered = await change;
    // Finished before the kill (200), or left to the next worker (503, the handover pending).
    expect([200, 503], answered.body).toContain(answered.statusCode);
    if (answered.statusCode === 503) expect(answered.json().error.details.reason).toBe('handover_pending');

    // The next worker (start-up adoption, then its reconcile loop) finishes what was left.
    const rec = recordingLog();
    resumer = await startWorker(h, { reconcileIntervalMs: 300, log: rec.log });
    // Bounded by the poll, not by a count of rounds: on a loaded 2-core machine the next
    // worker's start-up alone can take tens of seconds.
    await expect
      .poll(
        async () => {
          const r = await row();
          return r.routerStatus === 'up' && r.trafficProvider === to;
        },
        { timeout: 90_000, interval: 100 },
      )
      .toBe(true)
      .catch(async (err: Error) => {
        const r = await row();
        throw new Error(
          `${err.message} (round ${round}, killed at ${hit ? point : 'the end'}, to ${to})\n` +
            `row: ${JSON.stringify({ provider: r.trafficProvider, status: r.routerStatus, pid: r.routerPid })}\n` +
            `routers: ${JSON.stringify(routerProcesses())}\nthe next worker's log:\n${rec.dump()}`,
        );
      });
    const after = await row();
    expect(after).toMatchObject({ trafficProvider: to, routerStatus: 'up', routerPort: before.routerPort });
    const listener = await listenerOf(env.address);
    expect(listener).toEqual({ command: to === 'haproxy' ? 'haproxy' : 'node', pid: after.routerPid });
    // Exactly one router of the new kind; the old kind is gone once it drained.
    const from = to === 'haproxy' ? 'node' : 'haproxy';
    expect(routerProcesses()[to]).toEqual([after.routerPid]);
    await expect.poll(() => routerProcesses()[from], { timeout: 20_000 }).toEqual([]);
    if (before.routerPid && before.routerPid !== after.routerPid) {
      await expect.poll(() => isAlive(before.routerPid as number), { timeout: 20_000 }).toBe(false);
    }
    // The change is recorded once, whoever finished it.
    expect(
      (await h.db.prisma.auditEntry.count({ where: { action: 'environment.traffic_provider' } })) - audits,
    ).toBe(1);
    const mark = load.mark();
    await expect.poll(() => load.since(mark).requests, { timeout: 10_000 }).toBeGreaterThan(100);
    expect(load.since(mark).failed, load.since(mark).errors.join(', ')).toBe(0);
    console.log('handover crash', {
      round,
      killedAt: hit ? point : 'after the handover finished',
      rowAtKill: at.routerStatus,
      to,
      answered: answered.statusCode,
    });
  }
  const r = await load.stop();
  // No 5xx at any point; refused connections only in the handovers' gaps.
  expect(r.samples.filter((s) => s.status !== null && s.status >= 500)).toEqual([]);
  console.log('handover crash load', {
    requests: r.requests,
    refused: r.samples.filter((s) => s.status === null).length,
  });
  // The instances were never touched: same ones, all running.
  const envAfter = await h.environment(ENV);
  expect(envAfter.instances.map((i: { id: string }) => i.id).sort()).toEqual(instancesBefore);
  expect(envAfter.instances.every((i: { status: string }) => i.status === 'running')).toBe(true);
}, 420_000);
