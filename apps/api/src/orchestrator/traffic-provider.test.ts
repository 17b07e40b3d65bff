// Changing an environment's traffic provider (node ⇄ haproxy) on a live environment: the new
// provider takes over the same address (the old router stops accepting and finishes its in-flight
// requests, the new one starts on the same port serving the table the database describes), the
// change is audited and announced, and it is refused while anything else moves traffic. Races:
// conflicting changes, and a change racing a deployment — one winner, reported state = served.

import { isAlive } from '@qubot/runtime';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLoad } from '../../../../test/load.ts';
import { APP, FAST, type Harness, listenerOf, setTrafficProvider, startHarness } from './test-helpers.ts';

let h: Harness;
const FINAL = ['succeeded', 'failed', 'rolled_back', 'aborted'];
const ENV = 'development';

/** Until no deployment of the environment has work left (its rollback window closed). */
async function settled() {
  for (let i = 0; i < 300; i++) {
    const open = await h.db.prisma.deployment.count({
      where: {
        environment: { name: ENV },
        OR: [
          { status: { in: ['pending', 'running', 'paused'] } },
          { status: 'succeeded', state: { path: ['phase'], equals: 'cleanup' } },
        ],
      },
    });
    if (open === 0) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('deployments still have work left');
}

const row = () => h.db.prisma.environment.findFirstOrThrow({ where: { name: ENV } });

/** The provider the database and the view report is the process serving the address, with the live version. */
async function expectReportedIsServed() {
  const env = await h.environment(ENV);
  const r = await row();
  expect(r.routerStatus).toBe('up');
  expect(env.trafficProvider).toBe(r.trafficProvider);
  const listener = await listenerOf(env.address);
  expect(listener).toEqual({
    command: r.trafficProvider === 'haproxy' ? 'haproxy' : 'node',
    pid: r.routerPid,
  });
  const provider = h.app.orchestrator.runtime.providerFor(r);
  expect(provider?.kind).toBe(r.trafficProvider);
  expect((await provider?.health())?.pid).toBe(r.routerPid);
  for (let i = 0; i < 20; i++) {
    const res = await fetch(env.address);
    expect(res.status).toBe(200);
    expect(res.headers.get('x-qubot-version')).toBe(env.live.version);
    await res.arrayBuffer();
  }
  return { env, row: r };
}

beforeAll(async () => {
  h = await startHarness();
  const d = await h.deploy(ENV, {
    version: '1.0.0',
    strategy: 'blue-green',
    options: { ...FAST, autoSwitch: true, rollbackWindowSeconds: 0 },
  });
  expect((await h.until(d.id, FINAL)).status).toBe('succeeded');
  // The rollback window (0 s) closes: no open work left.
  await settled();
}, 120_000);
afterAll(async () => {
  await h?.close();
});

describe('[TRAFFIC] provider setting', () => {
  it('node → haproxy → node on a live environment: same address, audited, announced, old router gone', async () => {
    const before = await expectReportedIsServed();
    expect(before.env.trafficProvider).toBe('node');
    const address = before.env.address;
    const load = startLoad(address);
    await expect.poll(() => load.snapshot().requests, { timeout: 15_000 }).toBeGreaterThan(50);

    const seq = await h.db.prisma.event.aggregate({ _max: { seq: true } });
    const t0 = Date.now();
    const res = await setTrafficProvider(h, ENV, 'haproxy');
    const handoverMs = Date.now() - t0;
    expect(res.json()).toMatchObject({ trafficProvider: 'haproxy', address, router: { status: 'up' } });
    const mid = load.mark();
    const afterHaproxy = await expectReportedIsServed();
    expect(afterHaproxy.row.routerPid).not.toBe(before.row.routerPid);
    // The old router stops (gracefully: in-flight requests finish), and it is not counted as an outage.
    await expect.poll(() => isAlive(before.row.routerPid as number), { timeout: 16_000 }).toBe(false);
    expect(afterHaproxy.row.routerRestarts).toBe(before.row.routerRestarts);
    await expect.poll(() => load.since(mid).requests, { timeout: 10_000 }).toBeGreaterThan(100);
    expect(load.since(mid).failed, load.since(mid).errors.join(', ')).toBe(0);

    // HAProxy checks the targets itself: the provider view lists them, each passing.
    const status = await h.get(`/apps/${APP}/environments/${ENV}/traffic-provider`);
    expect(status).toMatchObject({
      kind: 'haproxy',
      capabilities: { checksTargets: true, windowStats: false },
      health: { ok: true, pid: afterHaproxy.row.routerPid },
    });
    const live = afterHaproxy.env.instances.map((i: { port: number }) => `127.0.0.1:${i.port}`).sort();
    const ready = status.health.targets.filter((t: { state: string }) => t.state === 'ready');
    expect(ready.map((t: { target: string }) => t.target).sort()).toEqual(live);
    expect(ready.every((t: { up: boolean; check: string }) => t.up && /^L7OK/.test(t.check))).toBe(true);

    const t1 = Date.now();
    const back = await setTrafficProvider(h, ENV, 'node');
    const toNodeMs = Date.now() - t1;
    expect(back.json()).toMatchObject({ trafficProvider: 'node', address });
    const afterNode = await expectReportedIsServed();
    await expect.poll(() => isAlive(afterHaproxy.row.routerPid as number), { timeout: 16_000 }).toBe(false);
    expect((await h.get(`/apps/${APP}/environments/${ENV}/traffic-provider`)).health.targets).toBeNull();

    const r = await load.stop();
    // During each handover new connections are refused for the moment between the old router
    // closing its listener and the new one binding; nothing in flight is cut.
    const refused = r.samples.filter((s) => s.status === null);
    expect(r.samples.filter((s) => s.status !== null && s.status >= 500)).toEqual([]);
    // Refusals cluster around each handover: how long each window of refusals lasted.
    const windows: { refused: number; ms: number }[] = [];
    let from = -1;
    let last = -1;
    for (const sample of refused) {
      if (from < 0 || sample.at - last > 300) {
        windows.push({ refused: 0, ms: 0 });
        from = sample.at;
      }
      last = sample.at;
      const w = windows.at(-1) as { refused: number; ms: number };
      w.refused++;
      w.ms = Math.round(last - from);
    }
    console.log('provider handover', {
      requests: r.requests,
      refusedDuringHandovers: refused.length,
      windows,
      errors: [...new Set(refused.map((s) => s.error))],
      toHaproxyMs: handoverMs,
      toNodeMs: toNodeMs,
    });

    const audit = await h.db.prisma.auditEntry.findMany({
      where: { action: 'environment.traffic_provider' },
      orderBy: { id: 'asc' },
    });
    expect(audit.map((a) => [a.before, a.after, a.actor])).toEqual([
      [{ trafficProvider: 'node' }, { trafficProvider: 'haproxy', handover: true }, 'admin'],
      [{ trafficProvider: 'haproxy' }, { trafficProvider: 'node', handover: true }, 'admin'],
    ]);
    // Dashboards heard it: the environment announced as handing over, then served by the new one.
    const events = await h.db.prisma.event.findMany({
      where: {
        seq: { gt: seq._max.seq ?? 0n },
        type: 'environment.updated',
        environmentId: afterNode.row.id,
      },
      orderBy: { seq: 'asc' },
    });
    const states = events.map((e) => {
      const p = e.payload as { trafficProvider?: string; router?: { status: string } };
      return `${p.trafficProvider}:${p.router?.status}`;
    });
    expect(states).toEqual(
      expect.arrayContaining(['haproxy:handover', 'haproxy:up', 'node:handover', 'node:up']),
    );
  }, 90_000);

  it('bad value → 400 naming the field; a release-manager → 403; the same value → 200, nothing written', async () => {
    const bad = await h.app.inject({
      method: 'PATCH',
      url: `/api/v1/apps/${APP}/environments/${ENV}/settings`,
      payload: { trafficProvider: 'nginx' },
      headers: await h.as('admin'),
    });
    expect(bad.statusCode).toBe(400);
    expect(JSON.stringify(bad.json().error)).toContain('trafficProvider');
    const denied = await h.app.inject({
      method: 'PATCH',
      url: `/api/v1/apps/${APP}/environments/${ENV}/settings`,
      payload: { trafficProvider: 'haproxy' },
      headers: await h.as('release-manager'),
    });
    expect(denied.statusCode).toBe(403);
    const audits = await h.db.prisma.auditEntry.count({ where: { action: 'environment.traffic_provider' } });
    await setTrafficProvider(h, ENV, 'node');
    expect(await h.db.prisma.auditEntry.count({ where: { action: 'environment.traffic_provider' } })).toBe(
      audits,
    );
    expect((await row()).trafficProvider).toBe('node');
  });

  it('refused (409) while a deployment is in progress; its switch then runs on the provider that served', async () => {
    const d = await h.deploy(ENV, {
      version: '1.1.0',
      strategy: 'blue-green',
      options: { ...FAST, autoSwitch: false, rollbackWindowSeconds: 0 },
    });
    expect((await h.until(d.id, ['paused', ...FINAL])).waitingFor).toBe('switch');
    const res = await setTrafficProvider(h, ENV, 'haproxy', 409);
    expect(res.json().error.details).toMatchObject({
      reason: 'active_deployment',
      field: 'body.trafficProvider',
    });
    expect(res.json().error.message).toMatch(/deployment is in progress/);
    const sw = await h.post(`/apps/${APP}/environments/${ENV}/traffic`, { activeColor: 'green' });
    expect(sw.statusCode, sw.body).toBe(202);
    expect((await h.until(d.id, FINAL)).status).toBe('succeeded');
    await settled();
    const { env } = await expectReportedIsServed();
    expect(env).toMatchObject({ trafficProvider: 'node', live: { version: '1.1.0' } });
  }, 60_000);
});

describe('[RACE] provider changes', () => {
  it('conflicting changes at once: each settles on one provider, and it is the one serving', async () => {
    for (const round of [0, 1, 2]) {
      const current = (await row()).trafficProvider as 'node' | 'haproxy';
      const other: 'node' | 'haproxy' = current === 'node' ? 'haproxy' : 'node';
      const audits = await h.db.prisma.auditEntry.count({
        where: { action: 'environment.traffic_provider' },
      });
      const results = await Promise.all(
        [other, current, other].map((p) => setTrafficProvider(h, ENV, p, null)),
      );
      const codes = results.map((r) => r.statusCode);
      for (const r of results) {
        expect([200, 409], r.body).toContain(r.statusCode);
        if (r.statusCode === 409) expect(r.json().error.details.reason).toBe('handover_in_progress');
      }
      const { row: after } = await expectReportedIsServed();
      // Every change made is in the audit trail once, and they add up to what serves now.
      const made =
        (await h.db.prisma.auditEntry.count({ where: { action: 'environment.traffic_provider' } })) - audits;
      expect(made % 2).toBe(after.trafficProvider === current ? 0 : 1);
      expect(made).toBeGreaterThanOrEqual(1);
      expect(made).toBeLessThanOrEqual(2);
      console.log('conflicting provider changes', { round, codes, from: current, to: after.trafficProvider });
    }
  }, 90_000);

  it('while a handover runs, another provider change, a traffic change and a deployment are refused (409)', async () => {
    const current = (await row()).trafficProvider as 'node' | 'haproxy';
    const other: 'node' | 'haproxy' = current === 'node' ? 'haproxy' : 'node';
    const first = setTrafficProvider(h, ENV, other, null);
    for (let i = 0; i < 500 && (await row()).routerStatus !== 'handover'; i++) {
      await new Promise((r) => setImmediate(r));
    }
    expect((await row()).routerStatus).toBe('handover');
    const [change, traffic, deploy] = await Promise.all([
      setTrafficProvider(h, ENV, current, null),
      h.post(`/apps/${APP}/environments/${ENV}/traffic`, { activeColor: 'blue' }),
      h.post(`/apps/${APP}/environments/${ENV}/deployments`, {
        version: '1.2.0',
        strategy: 'rolling',
        options: FAST,
      }),
    ]);
    for (const res of [change, traffic, deploy]) {
      expect(res.statusCode, res.body).toBe(409);
      expect(res.json().error.details.reason).toBe('handover_in_progress');
    }
    expect((await first).statusCode).toBe(200);
    const { row: after } = await expectReportedIsServed();
    expect(after.trafficProvider).toBe(other);
  }, 60_000);

  it('a provider change racing a deployment: exactly one wins, the other is told why (409)', async () => {
    const before = await row();
    const other = before.trafficProvider === 'node' ? 'haproxy' : 'node';
    const [change, deploy] = await Promise.all([
      setTrafficProvider(h, ENV, other, null),
      h.post(`/apps/${APP}/environments/${ENV}/deployments`, {
        version: '1.2.0',
        strategy: 'rolling',
        options: FAST,
        reason: 'race',
      }),
    ]);
    const codes = [change.statusCode, deploy.statusCode].sort();
    expect(codes, `${change.body} ${deploy.body}`).toEqual(
      change.statusCode === 200 ? [200, 409] : [202, 409],
    );
    if (change.statusCode === 200) {
      expect(deploy.statusCode).toBe(409);
      expect(deploy.json().error.details.reason).toBe('handover_in_progress');
      expect(await h.db.prisma.deployment.count({ where: { release: { version: '1.2.0' } } })).toBe(0);
    } else {
      expect(deploy.statusCode).toBe(202);
      expect(change.statusCode).toBe(409);
      expect(['active_deployment', 'open_work']).toContain(change.json().error.details.reason);
      expect((await h.until(deploy.json().id, FINAL, 90_000)).status).toBe('succeeded');
    }
    const { row: after } = await expectReportedIsServed();
    expect(after.trafficProvider).toBe(change.statusCode === 200 ? other : before.trafficProvider);
    console.log('provider change racing a deployment', {
      winner: change.statusCode === 200 ? 'provider change' : 'deployment',
    });
  }, 120_000);
});
