// The health monitor keeps instance health current between deployments: an instance process
// killed behind its supervisor's back shows up on the environment (restarts, healthy again),
// with an `environment.updated` event; nothing changing writes nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHealthMonitor, observe } from './health-monitor.ts';
import { APP, FAST, type Harness, startHarness } from './test-helpers.ts';

let h: Harness;
let environmentId: string;
const FINAL = ['succeeded', 'failed', 'rolled_back', 'aborted'];

interface InstanceView {
  id: string;
  status: string;
  healthy: boolean;
  restarts: number;
}

const instancesOf = (e: { payload: unknown }) => (e.payload as { instances: InstanceView[] }).instances;
const lastSeq = async () => (await h.db.prisma.event.findFirst({ orderBy: { seq: 'desc' } }))?.seq ?? 0n;
const envEventsSince = (seq: bigint) =>
  h.db.prisma.event.findMany({
    where: { environmentId, type: 'environment.updated', seq: { gt: seq } },
    orderBy: { seq: 'asc' },
  });

beforeAll(async () => {
  h = await startHarness({ healthMonitorIntervalMs: 250 });
  const d = await h.deploy('development', { version: '1.0.0', strategy: 'blue-green', options: FAST });
  expect((await h.until(d.id, FINAL)).status).toBe('succeeded');
  environmentId = (await h.db.prisma.environment.findFirstOrThrow({ where: { name: 'development' } })).id;
}, 60_000);
afterAll(async () => {
  await h?.close();
});

describe('[ENGINE] instance health monitor', () => {
  it('an instance killed behind the supervisor: restarts counted, healthy again, one event per change', async () => {
    const before = (await h.environment('development')).instances as InstanceView[];
    expect(before.length).toBe(2);
    expect(before.every((i) => i.status === 'running' && i.healthy && i.restarts === 0)).toBe(true);
    const victim = before[0] as InstanceView;
    const st = await h.app.orchestrator.driver.status({ id: victim.id });
    expect(st.alive).toBe(true);
    const seq = await lastSeq();

    process.kill(st.pid as number, 'SIGKILL');

    const view = () => h.get(`/apps/${APP}/environments/development`);
    await expect
      .poll(async () => ((await view()).instances as InstanceView[]).find((i) => i.id === victim.id), {
        timeout: 20_000,
        interval: 100,
      })
      .toMatchObject({ restarts: 1, healthy: true, status: 'running' });
    // The supervisor restarted the same instance: same row, a new process.
    const after = await h.app.orchestrator.driver.status({ id: victim.id });
    expect(after.pid).not.toBe(st.pid);

    const events = await envEventsSince(seq);
    expect(events.length).toBeGreaterThan(0);
    const seen = events.map((e) => instancesOf(e).find((i) => i.id === victim.id));
    expect(seen.at(-1)).toMatchObject({ restarts: 1, healthy: true, status: 'running' });
    // Only the victim's changes were announced; the other instance stayed as it was in every event.
    const other = before[1] as InstanceView;
    for (const e of events) {
      const o = instancesOf(e).find((i) => i.id === other.id);
      expect(o).toMatchObject({ status: 'running', healthy: true, restarts: 0 });
    }
    // No deployment was involved: the monitor wrote these.
    expect((await view()).activeDeployment).toBeNull();
    const rows = await h.db.prisma.instance.findUniqueOrThrow({ where: { id: victim.id } });
    expect(rows.lastHealthAt).not.toBeNull();
    console.log(
      'health monitor',
      seen.map((i) => `${i?.status}/${i?.healthy ? 'healthy' : 'unhealthy'}/r${i?.restarts}`),
    );
  }, 30_000);

  it('an instance that stops answering (process frozen): unhealthy, then healthy when it answers again', async () => {
    const [inst] = (await h.environment('development')).instances as InstanceView[];
    const { pid, restarts } = await h.app.orchestrator.driver.status({ id: inst?.id as string });
    const find = async () =>
      ((await h.environment('development')).instances as InstanceView[]).find((i) => i.id === inst?.id);
    process.kill(pid as number, 'SIGSTOP');
    try {
      await expect
        .poll(find, { timeout: 10_000, interval: 100 })
        .toMatchObject({ status: 'unhealthy', healthy: false });
    } finally {
      process.kill(pid as number, 'SIGCONT');
    }
    await expect
      .poll(find, { timeout: 10_000, interval: 100 })
      .toMatchObject({ status: 'running', healthy: true, restarts });
    // Same process all along: the supervisor saw nothing, only the health check did.
    expect((await h.app.orchestrator.driver.status({ id: inst?.id as string })).pid).toBe(pid);
  }, 30_000);

  it('nothing changes: several rounds, no event and no write', async () => {
    const monitor = h.app.orchestrator.healthMonitor;
    expect(monitor?.isLeader()).toBe(true);
    const seq = await lastSeq();
    const rowsBefore = await h.db.prisma.instance.findMany({
      where: { environmentId },
      orderBy: { id: 'asc' },
    });
    const start = monitor?.rounds() ?? 0;
    await expect
      .poll(() => monitor?.rounds() ?? 0, { timeout: 10_000, interval: 50 })
      .toBeGreaterThan(start + 3);
    expect(await envEventsSince(seq)).toEqual([]);
    const rowsAfter = await h.db.prisma.instance.findMany({
      where: { environmentId },
      orderBy: { id: 'asc' },
    });
    expect(rowsAfter).toEqual(rowsBefore);
  }, 20_000);

  it('one monitor per cluster: a second process stands by and takes over when the first stops', async () => {
    const first = h.app.orchestrator.healthMonitor;
    const second = createHealthMonitor({
      db: h.db,
      driver: h.app.orchestrator.driver,
      engine: h.app.orchestrator.engine,
      intervalMs: 50,
      log: h.app.log,
    });
    try {
      second.start();
      const start = first?.rounds() ?? 0;
      await expect
        .poll(() => first?.rounds() ?? 0, { timeout: 5_000, interval: 50 })
        .toBeGreaterThan(start + 1);
      expect(second.isLeader()).toBe(false);
      expect(second.rounds()).toBe(0);
      await first?.stop();
      await expect.poll(() => second.rounds(), { timeout: 5_000, interval: 50 }).toBeGreaterThan(0);
      expect(second.isLeader()).toBe(true);
    } finally {
      await second.stop();
    }
  }, 15_000);
});

describe('observe', () => {
  const st = { supervisorAlive: true, alive: true, restarts: 0, state: 'running' };
  it('maps supervisor and probe to the row', () => {
    expect(observe(st, true, 0)).toEqual({ status: 'running', healthy: true, restarts: 0 });
    expect(observe(st, false, 0)).toEqual({ status: 'unhealthy', healthy: false, restarts: 0 });
    expect(observe({ ...st, alive: false, state: 'backoff', restarts: 2 }, null, 1)).toEqual({
      status: 'unhealthy',
      healthy: false,
      restarts: 2,
    });
    expect(observe({ ...st, supervisorAlive: false, alive: false, state: 'stopped' }, null, 3)).toEqual({
      status: 'crashed',
      healthy: false,
      restarts: 3,
    });
    expect(observe({ ...st, state: 'unknown', restarts: 0 }, true, 4).restarts).toBe(4);
  });
});
