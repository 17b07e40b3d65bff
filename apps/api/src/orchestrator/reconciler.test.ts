// The reconcile loop against real processes: a SIGKILLed router is started again on its address
// with the routing the database describes, and the environment view shows the outage; a
// SIGKILLed supervisor is replaced and the replica count stays exact; a traffic change with the
// router dead answers promptly instead of timing out inside its transaction.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { isAlive } from '@qubot/runtime';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLoad } from '../../../../test/load.ts';
import { desiredRouting, sameRouting } from './reconciler.ts';
import { APP, FAST, type Harness, startHarness } from './test-helpers.ts';

let h: Harness;
let environmentId: string;
const FINAL = ['succeeded', 'failed', 'rolled_back', 'aborted'];

interface EnvView {
  address: string;
  replicas: number;
  activeColor: string;
  router: { status: string; restarts: number; lastOutageAt: string | null };
  instances: { id: string; pool: string; status: string; healthy: boolean; port: number }[];
}
const view = async () => (await h.environment('development')) as EnvView;
const envRow = () => h.db.prisma.environment.findUniqueOrThrow({ where: { id: environmentId } });
const liveRows = () =>
  h.db.prisma.instance.findMany({
    where: { environmentId, status: { in: ['starting', 'running', 'unhealthy', 'stopping'] } },
    orderBy: { id: 'asc' },
  });

/** The router's table now, and the one the database describes. */
async function tables() {
  const runtime = h.app.orchestrator.runtime;
  const env = await envRow();
  const client = runtime.clientFor(env);
  if (!client) throw new Error('no router');
  const live = await h.db.prisma.instance.findMany({
    where: { environmentId, status: { in: ['starting', 'running', 'unhealthy', 'stopping'] } },
    orderBy: [{ startedAt: 'asc' }, { id: 'asc' }],
    include: { release: { select: { version: true } } },
  });
  return {
    actual: await client.getConfig(),
    desired: desiredRouting(runtime.buildConfig, live, await runtime.currentWeights(environmentId)),
  };
}

beforeAll(async () => {
  h = await startHarness({ healthMonitorIntervalMs: 300, reconcileIntervalMs: 300 });
  const d = await h.deploy('development', { version: '1.0.0', strategy: 'blue-green', options: FAST });
  expect((await h.until(d.id, FINAL, 90_000)).status).toBe('succeeded');
  environmentId = (await h.db.prisma.environment.findFirstOrThrow({ where: { name: 'development' } })).id;
}, 120_000);

afterAll(async () => {
  await h?.close();
});

describe('[ENGINE] reconcile loop', () => {
  it('SIGKILL of the router: its address serves again within seconds, with the database routing, and the view reported the outage', async () => {
    const before = await view();
    expect(before.router).toEqual({ status: 'up', restarts: 0, lastOutageAt: null });
    const row = await envRow();
    const oldPid = row.routerPid as number;
    // Without its saved table the new router would start empty: what it serves must come from
    // the database, not from the file.
    rmSync(join(h.dataDir, 'runtime', 'routers', environmentId, 'state.json'), { force: true });
    const seq = (await h.db.prisma.event.findFirst({ orderBy: { seq: 'desc' } }))?.seq ?? 0n;
    const load = startLoad(before.address, { rps: 100, concurrency: 4 });
    process.kill(oldPid, 'SIGKILL');
    const killedAt = Date.now();

    await expect
      .poll(async () => (await view()).router, { timeout: 20_000, interval: 100 })
      .toMatchObject({ status: 'up', restarts: 1 });
    const restartedMs = Date.now() - killedAt;
    const after = await view();
    expect(after.address).toBe(before.address);
    expect(after.router.lastOutageAt).not.toBeNull();
    expect((await envRow()).routerPid).not.toBe(oldPid);
    expect(isAlive(oldPid)).toBe(false);
    // Dashboards were told: an environment.updated with the router down, then one with it up.
    const events = await h.db.prisma.event.findMany({
      where: { environmentId, type: 'environment.updated', seq: { gt: seq } },
      orderBy: { seq: 'asc' },
    });
    const statuses = events.map((e) => (e.payload as { router: { status: string } }).router.status);
    expect(statuses).toContain('down');
    expect(statuses.at(-1)).toBe('up');

    // The router serves the database's table, and every request after the restart succeeds.
    await expect
      .poll(async () => {
        const t = await tables();
        return sameRouting(t.actual, t.desired);
      })
      .toBe(true);
    const mark = load.mark();
    await expect.poll(() => load.since(mark).requests, { timeout: 15_000 }).toBeGreaterThan(100);
    const r = load.since(mark);
    await load.stop();
    expect(r.failed, r.errors.join(', ')).toBe(0);
    expect(Object.keys(r.versions)).toEqual(['1.0.0']);
    console.log('router restart', { restartedMs, requestsAfter: r.requests });
  }, 60_000);

  it('SIGKILL of a supervisor: a new one adopts the running instance; of both: started again; the replica count stays exact', async () => {
    const before = await liveRows();
    const v = await view();
    expect(before).toHaveLength(v.replicas);
    const [first, second] = before;
    if (!first?.supervisorPid || !second?.supervisorPid) throw new Error('instances without supervisors');
    const firstPid = (await h.app.orchestrator.driver.status({ id: first.id })).pid;
    const testStart = new Date();
    const load = startLoad(v.address, { rps: 100, concurrency: 4 });

    // Supervisor only: the instance lives on, unsupervised, until the loop puts a new one over it.
    process.kill(first.supervisorPid, 'SIGKILL');
    // Supervisor and instance (the whole process group).
    process.kill(-second.supervisorPid, 'SIGKILL');

    await expect
      .poll(
        async () => {
          const rows = await liveRows();
          return rows.map((r) => [
            r.id,
            r.supervisorPid !== null && r.supervisorPid !== before.find((b) => b.id === r.id)?.supervisorPid,
            r.status,
            r.healthy,
          ]);
        },
        { timeout: 30_000, interval: 200 },
      )
      .toEqual(before.map((b) => [b.id, true, 'running', true]));
    const rows = await liveRows();
    for (const r of rows)
      expect((await h.app.orchestrator.driver.status({ id: r.id })).supervisorAlive).toBe(true);
    // The first instance kept its process: adopted, not restarted.
    expect((await h.app.orchestrator.driver.status({ id: first.id })).pid).toBe(firstPid);
    // Same ids, same ports: no instance too many, no new row, nothing to re-route.
    expect(rows.map((r) => [r.id, r.port])).toEqual(before.map((b) => [b.id, b.port]));
    expect(await h.db.prisma.instance.count({ where: { environmentId, startedAt: { gt: testStart } } })).toBe(
      0,
    );
    await expect
      .poll(async () => {
        const t = await tables();
        return (
          sameRouting(t.actual, t.desired) && t.actual.pools.flatMap((p) => p.targets).length === v.replicas
        );
      })
      .toBe(true);
    const r = await load.stop();
    // The adopted instance never stopped; requests the router sent to the killed one were refused
    // before any byte went out, and retried on the other.
    console.log('supervisor loss', { requests: r.requests, failed: r.failed });
    expect(r.requests).toBeGreaterThan(0);
    expect(r.failed, r.errors.join(', ')).toBe(0);
  }, 60_000);

  it('a traffic change with the router dead answers promptly and leaves it serving the new weights', async () => {
    const row = await envRow();
    const v = await view();
    process.kill(row.routerPid as number, 'SIGKILL');
    const started = Date.now();
    const res = await h.post(`/apps/${APP}/environments/development/traffic`, {
      activeColor: v.activeColor,
      reason: 'router died',
    });
    // Not a 500 after the transaction's 20 s: the router start never waits on the row lock.
    expect(res.statusCode, res.body).toBe(200);
    console.log('traffic change with a dead router', { tookMs: Date.now() - started });
    const probe = await fetch(`${v.address}/`);
    expect(probe.status).toBe(200);
    const t = await tables();
    expect(sameRouting(t.actual, t.desired)).toBe(true);
  }, 60_000);
});
