// Autoscaling with real load (docs/scaling.md "Autoscaling"): a policy on a live environment; the
// request rate through the environment's address rises → the evaluator scales up (never past the
// policy's maximum); the load stops → after the cooldown it scales down to the minimum. Every
// decision is recorded (a repeated "no change" at most once per quiet period), keyset-paged, and
// the scales are `scale` deployments by the system:autoscaler actor. 0 failed requests throughout.
// Only one evaluator acts across processes (an advisory lock).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLoad } from '../../../../test/load.ts';
import { createAutoscaler } from './autoscaler.ts';
import {
  APP,
  awaitScalingDecision,
  FAST,
  type Harness,
  scalingDecisions,
  startHarness,
} from './test-helpers.ts';

const FINAL = ['succeeded', 'failed', 'rolled_back', 'aborted'];
const ENV = 'development';
const POLICY = `/apps/${APP}/environments/${ENV}/autoscale`;
let h: Harness;

const row = () => h.db.prisma.environment.findFirstOrThrow({ where: { name: ENV } });
const decisions = () => scalingDecisions(h, ENV);

async function put(body: object, expected = 200) {
  const res = await h.app.inject({ method: 'PUT', url: `/api/v1${POLICY}`, payload: body, headers: h.auth });
  expect(res.statusCode, res.body).toBe(expected);
  return res.json();
}

beforeAll(async () => {
  h = await startHarness({ autoscaleIntervalMs: 500, autoscaleQuietMs: 3_000 });
  const d = await h.deploy(ENV, {
    version: '1.0.0',
    strategy: 'blue-green',
    options: { ...FAST, autoSwitch: true, rollbackWindowSeconds: 0 },
  });
  expect((await h.until(d.id, FINAL)).status).toBe('succeeded');
}, 120_000);
afterAll(async () => {
  await h?.close();
});

describe('[SCALING] autoscaling policy', () => {
  it('bad policies are refused naming the field; a viewer cannot set one', async () => {
    const ok = {
      enabled: false,
      minReplicas: 1,
      maxReplicas: 3,
      metric: 'rps',
      target: 10,
      cooldownSeconds: 5,
    };
    expect((await put({ ...ok, minReplicas: 4 }, 400)).error.details.field).toBe('body.minReplicas');
    expect((await put({ ...ok, metric: 'cpu', target: 150 }, 400)).error.details.field).toBe('body.target');
    expect((await put({ ...ok, metric: 'memory' }, 400)).error.message).toMatch(/metric/);
    const viewer = await h.app.inject({
      method: 'PUT',
      url: `/api/v1${POLICY}`,
      payload: ok,
      headers: await h.as('viewer'),
    });
    expect(viewer.statusCode).toBe(403);
    expect((await h.get(POLICY)).policy).toBeNull();
  });

  it('real load up → scales up within max; load gone → scales down to min after the cooldown', async () => {
    const cooldownSeconds = 6;
    const saved = await put({
      enabled: true,
      minReplicas: 1,
      maxReplicas: 3,
      metric: 'rps',
      target: 15,
      cooldownSeconds,
      reason: 'test',
    });
    expect(saved.policy).toMatchObject({ enabled: true, maxReplicas: 3, updatedBy: expect.any(String) });
    const audit = await h.db.prisma.auditEntry.findFirst({
      where: { action: 'environment.autoscale_policy' },
    });
    expect(audit?.after).toMatchObject({ maxReplicas: 3, target: 15 });

    const env = await h.environment(ENV);
    // ~150 req/s over 2 instances: 75 per instance against a target of 15 → wants 10, capped at 3.
    const loadStartedAt = Date.now();
    const load = startLoad(env.address, { rps: 150 });
    const up = await awaitScalingDecision(h, ENV, 'scale_up', 30_000);
    expect(up).toMatchObject({ fromReplicas: 2, toReplicas: 3 });
    expect(up?.measured).toBeGreaterThan(15);
    const upDeployment = await h.until(up?.deploymentId as string, FINAL);
    expect(upDeployment).toMatchObject({ status: 'succeeded', kind: 'scale' });
    const upRow = await h.db.prisma.deployment.findUniqueOrThrow({
      where: { id: up?.deploymentId as string },
    });
    expect(upRow.actor).toBe('system:autoscaler');
    expect((await row()).replicas).toBe(3);

    // Still loaded: it stays at the maximum (a recorded "at the maximum"), never past it.
    await expect
      .poll(
        async () => (await decisions()).some((d) => d.action === 'none' && /at the maximum/.test(d.reason)),
        {
          timeout: 30_000,
          interval: 200,
        },
      )
      .toBe(true);
    expect((await row()).replicas).toBe(3);

    const stoppedAt = Date.now();
    const r = await load.stop();
    const down = await awaitScalingDecision(h, ENV, 'scale_down', 60_000);
    const all = await decisions();
    expect(down).toMatchObject({ fromReplicas: 3, toReplicas: 1 });
    // Not before the cooldown that the scale up started.
    expect(down?.at.getTime()).toBeGreaterThanOrEqual((up?.at.getTime() ?? 0) + cooldownSeconds * 1000);
    expect((await h.until(down?.deploymentId as string, FINAL)).status).toBe('succeeded');
    expect((await row()).replicas).toBe(1);
    expect(r.failed, r.errors.slice(0, 5).join(', ')).toBe(0);

    // A repeated "no change" is not written every round (rounds every 0.5 s, quiet period 3 s).
    const rounds = h.app.autoscaler?.rounds() ?? 0;
    expect(all.filter((d) => d.action === 'none').length).toBeLessThan(rounds / 2);
    // Announced live: the dashboard's topics get one event per recorded decision.
    const events = await h.db.prisma.event.count({ where: { type: 'autoscale.decision' } });
    expect(events).toBeGreaterThanOrEqual(all.length);
    console.log('autoscaling', {
      requests: r.requests,
      failed: r.failed,
      rps: r.rps,
      upAfterLoadStartedMs: (up?.at.getTime() ?? 0) - loadStartedAt,
      downAfterLoadStoppedMs: (down?.at.getTime() ?? 0) - stoppedAt,
      decisions: all.length,
      rounds,
    });
  }, 180_000);

  it('decisions are keyset-paged, newest first; a bad cursor is a 400', async () => {
    const first = await h.get(`${POLICY}/decisions?limit=2`);
    expect(first.items).toHaveLength(2);
    expect(first.nextCursor).toEqual(expect.any(String));
    const second = await h.get(`${POLICY}/decisions?limit=2&cursor=${first.nextCursor}`);
    const ids = [...first.items, ...second.items].map((d: { id: string }) => BigInt(d.id));
    expect(ids).toEqual([...ids].sort((a, b) => (a > b ? -1 : a < b ? 1 : 0)));
    expect(new Set(ids).size).toBe(ids.length);
    const bad = await h.app.inject({
      method: 'GET',
      url: `/api/v1${POLICY}/decisions?cursor=nope`,
      headers: h.auth,
    });
    expect(bad.statusCode).toBe(400);
  });

  it('only one evaluator acts across processes: a second one stands by while the first holds the lock', async () => {
    const other = createAutoscaler({
      db: h.db,
      runtime: h.app.orchestrator.runtime,
      intervalMs: 200,
      log: h.app.log,
      scale: async () => {
        throw new Error('the standby evaluator must not scale');
      },
    });
    other.start();
    const before = h.app.autoscaler?.rounds() ?? 0;
    await expect.poll(() => h.app.autoscaler?.rounds() ?? 0, { timeout: 10_000 }).toBeGreaterThan(before + 3);
    expect(h.app.autoscaler?.isLeader()).toBe(true);
    expect(other.isLeader()).toBe(false);
    expect(other.rounds()).toBe(0);
    // The leader stops (its connection goes): the standby takes over.
    await h.app.autoscaler?.stop();
    await expect.poll(() => other.rounds(), { timeout: 10_000 }).toBeGreaterThan(0);
    expect(other.isLeader()).toBe(true);
    await other.stop();
  });
});
