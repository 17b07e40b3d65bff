// Autoscaling through the HAProxy traffic provider (docs/scaling.md "Autoscaling"): the request rate
// the evaluator acts on is HAProxy's own counter of the live pool (its stats over the runtime API),
// not the Node router's. Real load through HAProxy → a scale up (a `scale` deployment whose new
// instances join HAProxy's server slots); the load stops → after the cooldown a scale down, whose
// surplus instances HAProxy drains before they stop. 0 failed requests throughout, and what HAProxy
// serves at the end is what the environment reports.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLoad } from '../../../../test/load.ts';
import {
  APP,
  awaitScalingDecision,
  FAST,
  type Harness,
  listenerOf,
  setTrafficProvider,
  settled,
  startHarness,
} from './test-helpers.ts';

const FINAL = ['succeeded', 'failed', 'rolled_back', 'aborted'];
const ENV = 'development';
const POLICY = `/apps/${APP}/environments/${ENV}/autoscale`;
let h: Harness;

const row = () => h.db.prisma.environment.findFirstOrThrow({ where: { name: ENV } });

beforeAll(async () => {
  h = await startHarness({ autoscaleIntervalMs: 500, autoscaleQuietMs: 3_000 });
  const d = await h.deploy(ENV, {
    version: '1.0.0',
    strategy: 'blue-green',
    options: { ...FAST, autoSwitch: true, rollbackWindowSeconds: 0 },
  });
  expect((await h.until(d.id, FINAL)).status).toBe('succeeded');
  await settled(h, ENV);
}, 180_000);
afterAll(async () => {
  await h?.close();
});

describe('[SCALING] autoscaling through the HAProxy provider', () => {
  it("HAProxy's request counter drives a scale up and, after the cooldown, a scale down; 0 failed", async () => {
    const cooldownSeconds = 6;
    await setTrafficProvider(h, ENV, 'haproxy');
    await expect
      .poll(async () => (await listenerOf((await h.environment(ENV)).address))?.command, { timeout: 30_000 })
      .toBe('haproxy');
    const res = await h.app.inject({
      method: 'PUT',
      url: `/api/v1${POLICY}`,
      headers: h.auth,
      payload: {
        enabled: true,
        minReplicas: 1,
        maxReplicas: 3,
        metric: 'rps',
        target: 15,
        cooldownSeconds,
        reason: 'test',
      },
    });
    expect(res.statusCode, res.body).toBe(200);

    const env = await h.environment(ENV);
    expect((await listenerOf(env.address))?.command).toBe('haproxy');
    // ~150 req/s over 2 instances against a target of 15 per instance → wants more, capped at 3.
    const load = startLoad(env.address, { rps: 150 });
    const up = await awaitScalingDecision(h, ENV, 'scale_up', 45_000);
    expect(up).toMatchObject({ fromReplicas: 2, toReplicas: 3 });
    // Measured from HAProxy: per instance well above the target (150 req/s over 2).
    expect(up?.measured).toBeGreaterThan(15);
    expect((await h.until(up?.deploymentId as string, FINAL)).status).toBe('succeeded');
    expect((await row()).replicas).toBe(3);

    // HAProxy serves the three instances the environment reports.
    const provider = h.app.orchestrator.runtime.providerFor(await row());
    const servedTargets = async () =>
      (await provider?.getConfig())?.pools
        .find((p) => p.name === env.activeColor)
        ?.targets.slice()
        .sort();
    const running = async () =>
      (
        await h.db.prisma.instance.findMany({
          where: { environment: { name: ENV }, pool: env.activeColor, status: 'running' },
        })
      )
        .map((i) => `127.0.0.1:${i.port}`)
        .sort();
    expect(await servedTargets()).toEqual(await running());
    expect(await servedTargets()).toHaveLength(3);

    const r = await load.stop();
    const down = await awaitScalingDecision(h, ENV, 'scale_down', 60_000);
    expect(down).toMatchObject({ fromReplicas: 3, toReplicas: 1 });
    expect(down?.at.getTime()).toBeGreaterThanOrEqual((up?.at.getTime() ?? 0) + cooldownSeconds * 1000);
    expect((await h.until(down?.deploymentId as string, FINAL)).status).toBe('succeeded');
    expect((await row()).replicas).toBe(1);
    expect(await servedTargets()).toEqual(await running());
    expect(await servedTargets()).toHaveLength(1);
    expect(r.failed, r.errors.slice(0, 5).join(', ')).toBe(0);
    console.log('autoscaling through haproxy', {
      requests: r.requests,
      failed: r.failed,
      rps: r.rps,
      measuredAtScaleUp: up?.measured,
    });
  }, 240_000);
});
