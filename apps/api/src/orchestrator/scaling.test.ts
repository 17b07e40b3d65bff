// Live scaling (docs/scaling.md): a new replica count on a live environment is carried out now by
// a `scale` deployment — new instances of the live release start, pass their health checks and join
// the live pool through the traffic provider; surplus ones are drained, then stopped. Under load,
// through both providers, with 0 failed requests. Races: a scale against a deployment and against
// another scale — one winner (409 for the other), and what is reported is what is served.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLoad } from '../../../../test/load.ts';
import { APP, FAST, type Harness, setTrafficProvider, settled, startHarness } from './test-helpers.ts';

const FINAL = ['succeeded', 'failed', 'rolled_back', 'aborted'];
const ENV = 'development';
let h: Harness;

const row = () => h.db.prisma.environment.findFirstOrThrow({ where: { name: ENV } });

async function scale(replicas: number, expected = 202) {
  const res = await h.post(`/apps/${APP}/environments/${ENV}/scale`, { replicas, reason: 'test' });
  expect(res.statusCode, res.body).toBe(expected);
  return res.json();
}

/** The environment as reported (API view, row) is what the provider serves: same targets, same count. */
async function expectReportedIsServed(replicas: number) {
  const env = await h.environment(ENV);
  const r = await row();
  expect(r.replicas).toBe(replicas);
  expect(env.activeDeployment).toBeNull();
  const live = env.instances.filter(
    (i: { pool: string; status: string }) => i.pool === env.activeColor && i.status === 'running',
  );
  expect(live).toHaveLength(replicas);
  expect(
    live.every((i: { healthy: boolean; version: string }) => i.healthy && i.version === env.live.version),
  ).toBe(true);
  const provider = h.app.orchestrator.runtime.providerFor(r);
  const served = (await provider?.getConfig())?.pools.find((p) => p.name === env.activeColor);
  const rows = await h.db.prisma.instance.findMany({
    where: { environment: { name: ENV }, pool: env.activeColor, status: 'running' },
  });
  expect(served?.targets.slice().sort()).toEqual(rows.map((i) => `127.0.0.1:${i.port}`).sort());
  expect(served?.weight).toBe(100);
  // No instance left behind that the database does not count.
  expect(
    await h.db.prisma.instance.count({ where: { environment: { name: ENV }, status: 'stopping' } }),
  ).toBe(0);
  return env;
}

beforeAll(async () => {
  h = await startHarness();
  const d = await h.deploy(ENV, {
    version: '1.0.0',
    strategy: 'blue-green',
    options: { ...FAST, autoSwitch: true, rollbackWindowSeconds: 0 },
  });
  expect((await h.until(d.id, FINAL)).status).toBe('succeeded');
  await settled(h, ENV);
}, 120_000);
afterAll(async () => {
  await h?.close();
});

describe.each(['node', 'haproxy'] as const)('[SCALING] live scaling, %s provider', (provider) => {
  it('up 2 → 4 then down 4 → 1 under load: 0 failed requests, recorded as scale deployments, audited', async () => {
    if ((await row()).trafficProvider !== provider) await setTrafficProvider(h, ENV, provider);
    const start = (await row()).replicas;
    const env = await h.environment(ENV);
    const load = startLoad(env.address, { rps: 200 });
    await expect.poll(() => load.snapshot().requests, { timeout: 10_000 }).toBeGreaterThan(50);

    const up = await scale(4);
    expect(up.deployment).toMatchObject({
      kind: 'scale',
      strategy: 'rolling',
      release: { version: '1.0.0' },
    });
    expect(up.replicas).toBe(4);
    const upDone = await h.until(up.deployment.id, FINAL);
    expect(upDone.status).toBe('succeeded');
    expect((upDone.steps as { name: string; status: string }[]).map((s) => [s.name, s.status])).toEqual([
      [`Start ${4 - start} × 1.0.0 on ${env.activeColor}`, 'succeeded'],
      ['Health check, then serve (4 instances)', 'succeeded'],
    ]);
    await expectReportedIsServed(4);
    // The new instances answer through the address: every target got requests after the scale.
    const mark = load.mark();
    await expect.poll(() => load.since(mark).requests, { timeout: 10_000 }).toBeGreaterThan(200);

    const down = await scale(1);
    const downDone = await h.until(down.deployment.id, FINAL);
    expect(downDone.status).toBe('succeeded');
    await expectReportedIsServed(1);
    const after = load.mark();
    await expect.poll(() => load.since(after).requests, { timeout: 10_000 }).toBeGreaterThan(100);
    const r = await load.stop();
    expect(r.failed, r.errors.slice(0, 5).join(', ')).toBe(0);
    expect(Object.keys(r.versions)).toEqual(['1.0.0']);

    const audit = await h.db.prisma.auditEntry.findMany({
      where: { action: 'environment.scale', targetId: { in: [up.deployment.id, down.deployment.id] } },
      orderBy: { id: 'asc' },
    });
    expect(audit.map((a) => [a.before, a.after])).toEqual([
      [
        { replicas: start, instances: start },
        { replicas: 4, live: '1.0.0', pool: env.activeColor },
      ],
      [
        { replicas: 4, instances: 4 },
        { replicas: 1, live: '1.0.0', pool: env.activeColor },
      ],
    ]);
    // Announced like any deployment: the dashboard's websocket topics get created/updated events.
    const events = await h.db.prisma.event.findMany({
      where: { deploymentId: up.deployment.id },
      orderBy: { seq: 'asc' },
      select: { type: true },
    });
    expect(events[0]?.type).toBe('deployment.created');
    expect(events.some((e) => e.type === 'deployment.updated')).toBe(true);
    console.log(`scaling (${provider})`, { requests: r.requests, failed: r.failed, rps: r.rps });
  }, 150_000);
});

describe('[SCALING] races and rules', () => {
  it('a scale racing a deployment: exactly one wins, the other gets 409; reported = served', async () => {
    for (let round = 0; round < 3; round++) {
      const [s, d] = await Promise.all([
        h.post(`/apps/${APP}/environments/${ENV}/scale`, { replicas: 2 + (round % 2) }),
        h.post(`/apps/${APP}/environments/${ENV}/deployments`, {
          version: '1.0.0',
          strategy: 'rolling',
          options: FAST,
        }),
      ]);
      const codes = [s.statusCode, d.statusCode].sort();
      expect(codes[1], `${s.body} ${d.body}`).toBe(409);
      expect([200, 202]).toContain(codes[0]);
      const winner = s.statusCode === 202 ? s.json().deployment : d.json();
      const done = await h.until(winner.id, FINAL);
      expect(done.status).toBe('succeeded');
      await expectReportedIsServed((await row()).replicas);
    }
  }, 150_000);

  it('two scales at once: one 202, one 409; the winner is what is served', async () => {
    const before = (await row()).replicas;
    const [a, b] = await Promise.all([
      h.post(`/apps/${APP}/environments/${ENV}/scale`, { replicas: before + 1 }),
      h.post(`/apps/${APP}/environments/${ENV}/scale`, { replicas: before + 2 }),
    ]);
    expect([a.statusCode, b.statusCode].sort()).toEqual([202, 409]);
    const winner = a.statusCode === 202 ? a.json() : b.json();
    const loser = a.statusCode === 202 ? b.json() : a.json();
    expect(loser.error).toMatchObject({ code: 'conflict', details: { reason: 'active_deployment' } });
    expect((await h.until(winner.deployment.id, FINAL)).status).toBe('succeeded');
    await expectReportedIsServed(winner.replicas);
  }, 90_000);

  it('the replicas setting scales a live environment now; bad input names the field; a viewer is refused', async () => {
    const auth = h.auth;
    const res = await h.app.inject({
      method: 'PATCH',
      url: `/api/v1/apps/${APP}/environments/${ENV}/settings`,
      payload: { replicas: 2 },
      headers: auth,
    });
    expect(res.statusCode, res.body).toBe(200);
    const active = await h.db.prisma.deployment.findFirst({
      where: { kind: 'scale', status: { in: ['pending', 'running'] } },
    });
    if ((await row()).replicas !== 2 || active) {
      expect(active).not.toBeNull();
      expect((await h.until(active?.id as string, FINAL)).status).toBe('succeeded');
    }
    await expectReportedIsServed(2);
    const bad = await h.post(`/apps/${APP}/environments/${ENV}/scale`, { replicas: 0 });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.message).toMatch(/replicas/);
    const viewer = await h.app.inject({
      method: 'POST',
      url: `/api/v1/apps/${APP}/environments/${ENV}/scale`,
      payload: { replicas: 3 },
      headers: await h.as('viewer'),
    });
    expect(viewer.statusCode).toBe(403);
    expect((await row()).replicas).toBe(2);
  }, 90_000);
});
