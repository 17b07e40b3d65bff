// DORA figures against a hand-computed history seeded through the API: real releases and real
// deployments (a success, a failure, the restoring success, an abort), then GET /apps/:app/dora
// and /metrics must give what the timestamps the API returned say.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSamples, sampleKey } from '../../../../test/prometheus-text.ts';
import { SYSTEM_ACTOR } from '../lib/request-context.ts';
import { APP, FAST, type Harness, startHarness } from '../orchestrator/test-helpers.ts';
import { createMonitoringService } from '../services/monitoring-service.ts';
import { dayOffset } from '../views/dora-view.ts';

let h: Harness;
const FINAL = ['succeeded', 'failed', 'rolled_back', 'aborted'];
const ms = (iso: unknown) => Date.parse(String(iso));

beforeAll(async () => {
  h = await startHarness();
}, 60_000);
afterAll(async () => {
  await h?.close();
});

async function release(version: string, artifact = 'qubot-one/healthy') {
  const res = await h.post(`/apps/${APP}/releases`, { version, artifact });
  expect(res.statusCode, res.body).toBe(201);
  return res.json() as { createdAt: string };
}
async function deployed(version: string, options: object = FAST) {
  const d = await h.deploy('development', { version, strategy: 'blue-green', options });
  const done = await h.until(d.id, FINAL, 60_000);
  return done as unknown as { status: string; finishedAt: string; id: string };
}

describe('[DORA] figures from the deployment history', () => {
  it('frequency, lead time, change failure rate and time to restore, per environment, with trend', async () => {
    const r1 = await release('2.0.0');
    const d1 = await deployed('2.0.0');
    expect(d1.status).toBe('succeeded');
    await release('2.1.0-broken', 'qubot-one/never-healthy');
    const d2 = await deployed('2.1.0-broken', { healthTimeoutSeconds: 2 });
    expect(d2.status).toBe('failed');
    const r3 = await release('2.2.0');
    const d3 = await deployed('2.2.0');
    expect(d3.status).toBe('succeeded');
    // Aborted: a person's decision, not a change failure.
    const d4 = await h.deploy('development', {
      version: '2.0.0',
      strategy: 'blue-green',
      options: { ...FAST, autoSwitch: false },
    });
    await h.until(d4.id, ['paused']);
    expect((await h.post(`/deployments/${d4.id}/abort`, { reason: 'no' })).statusCode).toBeLessThan(300);
    expect((await h.until(d4.id, FINAL)).status).toBe('aborted');

    // By hand, from what the API said.
    const lead1 = (ms(d1.finishedAt) - ms(r1.createdAt)) / 1000;
    const lead3 = (ms(d3.finishedAt) - ms(r3.createdAt)) / 1000;
    const restore = (ms(d3.finishedAt) - ms(d2.finishedAt)) / 1000;
    const expected = {
      deployments: 2,
      deploymentsPerDay: 2 / 7,
      failures: 1,
      changeFailureRate: 1 / 3,
      leadTimeSeconds: (lead1 + lead3) / 2,
      timeToRestoreSeconds: restore,
    };

    const res = await h.app.inject({
      method: 'GET',
      url: `/api/v1/apps/${APP}/dora`,
      headers: await h.as('viewer'),
    });
    expect(res.statusCode, res.body).toBe(200);
    const report = res.json();
    expect(report.environments.map((e: { environment: string }) => e.environment)).toEqual([
      'development',
      'staging',
      'production',
    ]);
    const dev = report.environments[0];
    const w7 = dev.windows[0];
    expect(w7.days).toBe(7);
    for (const [k, v] of Object.entries(expected)) expect(w7.current[k], k).toBeCloseTo(v, 3);
    expect(w7.previous).toMatchObject({ deployments: 0, changeFailureRate: null });
    expect(dev.windows.map((w: { days: number }) => w.days)).toEqual([7, 30, 90]);
    expect(dev.windows[2].current.deploymentsPerDay).toBeCloseTo(2 / 90, 6);
    expect(dev.daily).toHaveLength(90);
    const today = dev.daily[89];
    expect(today).toMatchObject({ day: dayOffset(Date.now(), 0), succeeded: 2, failed: 1 });
    expect(report.environments[2].windows[0].current).toMatchObject({
      deployments: 0,
      changeFailureRate: null,
    });

    // A week later the same days fall in the previous window: the trend.
    const later = createMonitoringService({
      metrics: h.app.repos.metrics,
      catalog: h.app.services.catalog,
      now: () => Date.now() + 7 * 86_400_000,
    });
    const { environments } = await later.dora({ actor: SYSTEM_ACTOR }, APP);
    expect(environments[0]?.windows[0]?.current.deployments).toBe(0);
    expect(environments[0]?.windows[0]?.previous.deployments).toBe(2);
    expect(environments[0]?.windows[0]?.previous.timeToRestoreSeconds).toBeCloseTo(restore, 3);

    // The same figures on /metrics.
    const m = parseSamples(
      (await h.app.inject({ method: 'GET', url: '/metrics', remoteAddress: '127.0.0.1' })).body,
    );
    const labels = { application: APP, environment: 'development', window: '7d' };
    expect(m.get(sampleKey('qubot_dora_change_failure_ratio', labels))).toBeCloseTo(1 / 3, 6);
    expect(m.get(sampleKey('qubot_dora_lead_time_seconds', labels))).toBeCloseTo(expected.leadTimeSeconds, 2);
    expect(m.get(sampleKey('qubot_dora_time_to_restore_seconds', labels))).toBeCloseTo(restore, 2);
  }, 120_000);

  it('needs a reader of the application; an unknown application is 404', async () => {
    const anonymous = await h.app.inject({ method: 'GET', url: `/api/v1/apps/${APP}/dora` });
    expect(anonymous.statusCode).toBe(401);
    const missing = await h.app.inject({
      method: 'GET',
      url: '/api/v1/apps/no-such-app/dora',
      headers: await h.as('viewer'),
    });
    expect(missing.statusCode).toBe(404);
  });
});
