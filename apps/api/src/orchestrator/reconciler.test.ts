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

const lastSeq = async () => (await h.db.prisma.event.findFirst({ orderBy: { seq: 'desc' } }))?.seq ?? 0n;
/**
 * The router statuses `environment.updated` reported since `seq`, from the first `down` on, each
 * run of one status folded: an outage recorded once reads `['down', 'up']`.
 */
async function routerStatusesSince(seq: bigint) {
  const events = await h.db.prisma.event.findMany({
    where: { environmentId, type: 'environment.updated', seq: { gt: seq } },
    orderBy: { seq: 'asc' },
  });
  const out: string[] = [];
  for (const e of events) {
    const status = (e.payload as { router: { status: string } }).router.status;
    // Before the outage: other changes to the environment (instances' health) while it was up.
    if (out.length === 0 && status === 'up') continue;
    if (out.at(-1) !== status) out.push(status);
  }
  return out;
}

/** The router's table now, and the one the database describes. */
async function tables() {
  const runtime = h.app.orchestrator.runtime;
  const env = await envRow();
  const client = runtime.providerFor(env);
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

/** Until the router serves the table the database describes (15 s at most). */
async function untilRouterMatchesDatabase() {
  let t = await tables();
  await expect
    .poll(
      async () => {
        t = await tables();
        return sameRouting(t.actual, t.desired);
      },
      { timeout: 15_000, message: JSON.stringify(t) },
    )
    .toBe(true);
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
    for (const r of rows) {
      const st = await h.app.orchestrator.driver.status({ id: r.id });
      const log = await h.app.orchestrator.driver.logs({ id: r.id }, 30);
      expect(st.supervisorAlive, JSON.stringify({ row: r.id, st, log }, null, 1)).toBe(true);
    }
    // The first instance kept its process: adopted, not restarted.
    expect((await h.app.orchestrator.driver.status({ id: first.id })).pid).toBe(firstPid);
    // Same ids, same ports: no instance too many, no new row, nothing to re-route.
    expect(rows.map((r) => [r.id, r.port])).toEqual(before.map((b) => [b.id, b.port]));
    expect(await h.db.prisma.instance.count({ where: { environmentId, startedAt: { gt: testStart } } })).toBe(
      0,
    );
    await expect
      .poll(
        async () => {
          const t = await tables();
          return (
            sameRouting(t.actual, t.desired) && t.actual.pools.flatMap((p) => p.targets).length === v.replicas
          );
        },
        { timeout: 15_000, interval: 100 },
      )
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
    const seq = await lastSeq();
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
    // The restarted router serves the stored table at once; an instance the previous test's
    // supervisor restart brought back may join it a reconcile round later.
    await untilRouterMatchesDatabase();
    // Whoever started it again (this request or the loop), the outage is on record, once.
    await expect
      .poll(async () => (await view()).router, { timeout: 20_000 })
      .toMatchObject({ status: 'up', restarts: v.router.restarts + 1 });
    expect(await routerStatusesSince(seq)).toEqual(['down', 'up']);
  }, 60_000);

  it('a router started again while its environment row is locked: the outage is recorded once the lock is free, counted once', async () => {
    const v = await view();
    expect(v.router.status).toBe('up');
    const row = await envRow();
    const oldPid = row.routerPid as number;
    const seq = await lastSeq();
    // Someone holds the environment's row (a long transaction): no router write can land.
    let release = () => {};
    const held = new Promise<void>((r) => {
      release = r;
    });
    let locked = () => {};
    const isLocked = new Promise<void>((r) => {
      locked = r;
    });
    const holder = h.db.prisma.$transaction(
      async (tx) => {
        await tx.$queryRaw`SELECT id FROM environments WHERE id = ${environmentId}::uuid FOR UPDATE`;
        locked();
        await held;
      },
      { timeout: 60_000 },
    );
    await isLocked;
    process.kill(oldPid, 'SIGKILL');
    // The address serves again (another process) while the row still names the dead one.
    const serving = async () => {
      const res = await fetch(`${v.address}/`).catch(() => null);
      return res?.status ?? 0;
    };
    await expect.poll(serving, { timeout: 20_000, interval: 100 }).toBe(200);
    expect((await envRow()).routerPid).toBe(oldPid);
    release();
    await holder;
    await expect
      .poll(async () => (await view()).router, { timeout: 20_000, interval: 100 })
      .toMatchObject({ status: 'up', restarts: v.router.restarts + 1 });
    expect((await envRow()).routerPid).not.toBe(oldPid);
    expect(await routerStatusesSince(seq)).toEqual(['down', 'up']);
    // Counted once: later rounds adopt the same process and record nothing more.
    const reconciler = h.app.orchestrator.reconciler;
    if (!reconciler) throw new Error('no reconcile loop');
    const round = reconciler.rounds();
    await expect.poll(() => reconciler.rounds(), { timeout: 20_000 }).toBeGreaterThan(round + 2);
    expect((await view()).router.restarts).toBe(v.router.restarts + 1);
    expect(await routerStatusesSince(seq)).toEqual(['down', 'up']);
  }, 60_000);

  it('idle rounds check the router against the table last found in order, without the database; a table changed behind their back, or a change in the database, is still acted on', async () => {
    const r = h.app.orchestrator.reconciler;
    if (!r) throw new Error('no reconcile loop in this harness');
    await expect.poll(() => r.routingChecks().quick, { timeout: 20_000 }).toBeGreaterThan(0);
    const before = r.routingChecks();
    await expect
      .poll(() => r.routingChecks().quick, { timeout: 20_000 })
      .toBeGreaterThanOrEqual(before.quick + 3);
    // Nothing committed meanwhile (an instance's health may change once): no database check.
    expect(r.routingChecks().full - before.full).toBeLessThanOrEqual(1);

    // The router's table changed behind the loop's back (no event): put right by the next rounds.
    const client = h.app.orchestrator.runtime.providerFor(await envRow());
    if (!client) throw new Error('no router');
    const { actual } = await tables();
    await client.setConfig({ pools: actual.pools.map((p) => ({ ...p, version: 'tampered' })) });
    await untilRouterMatchesDatabase();

    // A change in the database commits an event: the next round reads the database again.
    const full = r.routingChecks().full;
    const res = await h.post(`/apps/${APP}/environments/development/traffic`, {
      activeColor: (await view()).activeColor,
      reason: 'reconcile check',
    });
    expect(res.statusCode, res.body).toBe(200);
    await expect.poll(() => r.routingChecks().full, { timeout: 15_000 }).toBeGreaterThan(full);
  }, 60_000);
});
