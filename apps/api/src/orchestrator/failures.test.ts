// Deployments that must not go through, and requests that must not be half-applied.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLoad } from '../../../../test/load.ts';
import { APP, FAST, type Harness, startHarness } from './test-helpers.ts';

let h: Harness;
const FINAL = ['succeeded', 'failed', 'rolled_back', 'aborted'];
const deploymentsUrl = (env: string) => `/apps/${APP}/environments/${env}/deployments`;

beforeAll(async () => {
  h = await startHarness();
  const d = await h.deploy('development', { version: '1.0.0', strategy: 'blue-green', options: FAST });
  expect((await h.until(d.id, FINAL)).status).toBe('succeeded');
}, 60_000);
afterAll(async () => {
  await h?.close();
});

describe('[ENGINE] failures roll back by themselves', () => {
  it('1.3.0-faulty under canary: analysis fails, automatic rollback, then no request fails', async () => {
    const env = await h.environment('development');
    const load = startLoad(env.address);
    const d = await h.deploy('development', {
      version: '1.3.0-faulty',
      strategy: 'canary',
      options: { ...FAST, steps: [50], stepDurationSeconds: 2, analysis: { maxErrorRate: 0.05 } },
    });
    const done = await h.until(d.id, FINAL, 60_000);
    expect(done.status).toBe('rolled_back');
    const analysis = done.analysis as { metric: string; passed: boolean; value: number; step: string }[];
    const breach = analysis.find((a) => !a.passed);
    expect(breach).toMatchObject({ metric: 'errorRate', step: 'weight-50' });
    expect(breach?.value).toBeGreaterThan(0.05);
    expect(done.error).toMatch(/analysis failed/);
    const during = load.snapshot();
    expect(during.failed).toBeGreaterThan(0); // the faulty canary did serve errors: analysis saw real traffic
    const after = load.mark();
    await expect.poll(() => load.since(after).requests, { timeout: 5_000 }).toBeGreaterThan(200);
    const r = await load.stop();
    const tail = load.since(after);
    expect(tail.failed, tail.errors.join(', ')).toBe(0);
    expect(Object.keys(tail.versions)).toEqual(['1.0.0']);
    expect(r.requests).toBeGreaterThan(tail.requests);
    const envAfter = await h.environment('development');
    expect(envAfter).toMatchObject({ live: { version: '1.0.0' }, activeColor: 'blue' });
    expect(envAfter.instances.every((i: { version: string }) => i.version === '1.0.0')).toBe(true);
    const recorded = await h.deployment(d.id);
    expect(recorded.traffic.failed).toBeGreaterThan(0);
  }, 60_000);

  it('an instance that never becomes healthy: fails at the health gate, traffic never moves', async () => {
    const rel = await h.post(`/apps/${APP}/releases`, {
      version: '1.4.0-broken',
      artifact: 'qubot-one/never-healthy',
    });
    expect(rel.statusCode, rel.body).toBe(201);
    const before = await h.environment('development');
    const load = startLoad(before.address);
    const d = await h.deploy('development', {
      version: '1.4.0-broken',
      strategy: 'blue-green',
      options: { healthTimeoutSeconds: 2 },
    });
    const done = await h.until(d.id, FINAL, 30_000);
    const r = await load.stop();
    expect(done.status).toBe('failed');
    const steps = done.steps as { name: string; status: string }[];
    expect(steps.find((s) => s.name === 'Health check')?.status).toBe('failed');
    expect(steps.find((s) => s.name.startsWith('Switch'))?.status).toBe('skipped');
    expect(r.failed).toBe(0);
    expect(Object.keys(r.versions)).toEqual(['1.0.0']);
    const after = await h.environment('development');
    expect(after.traffic).toEqual(before.traffic);
    expect(after.activeColor).toBe(before.activeColor);
    expect(after.instances.map((i: { id: string }) => i.id)).toEqual(
      before.instances.map((i: { id: string }) => i.id),
    );
  }, 40_000);

  it('20 concurrent deployment requests on one environment: exactly one 202, the rest 409', async () => {
    // The configuration in force when the deployment starts is pinned on it (DESIGN §8).
    const config = await h.app.inject({
      method: 'PUT',
      url: `/api/v1/apps/${APP}/environments/staging/config`,
      payload: { entries: [{ key: 'FEATURE_X', value: 'on' }] },
      headers: h.auth,
    });
    expect(config.statusCode, config.body).toBe(201);
    const results = await Promise.all(
      Array.from({ length: 20 }, () =>
        h.post(deploymentsUrl('staging'), { version: '1.0.0', strategy: 'rolling', options: FAST }),
      ),
    );
    const codes = results.map((r) => r.statusCode).sort();
    expect(codes.filter((c) => c === 202)).toHaveLength(1);
    expect(codes.filter((c) => c === 409)).toHaveLength(19);
    const conflict = results.find((r) => r.statusCode === 409)?.json();
    expect(conflict.error.code).toBe('conflict');
    expect(conflict.error.message).toMatch(/already has an active deployment/);
    const winner = results.find((r) => r.statusCode === 202)?.json();
    expect(winner.configVersion).toBe(config.json().version);
    expect(await h.db.prisma.deployment.count({ where: { environment: { name: 'staging' } } })).toBe(1);
    expect((await h.until(winner.id, FINAL)).status).toBe('succeeded');
  }, 60_000);
});

describe('[API] bad input: 4xx naming the field, never a 500, never half-applied', () => {
  const deploy = (body: object, headers: Record<string, string> = {}) =>
    h.post(deploymentsUrl('development'), body, headers);

  it('rejects an unknown version, strategy or option with 400 naming the field', async () => {
    const count = await h.db.prisma.deployment.count();
    const cases: [object, string][] = [
      [{ version: '9.9.9', strategy: 'rolling' }, 'body.version'],
      [{ version: '1.1.0', strategy: 'big-bang' }, 'body.strategy'],
      [{ version: '1.1.0', strategy: 'canary', options: { steps: [10, 50, 30] } }, 'body.options.steps[2]'],
      [
        { version: '1.1.0', strategy: 'rolling', options: { maxSurge: 1, colour: 'red' } },
        'body.options.colour',
      ],
      [
        { version: '1.1.0', strategy: 'blue-green', options: { analysis: { maxErrorRate: 2 } } },
        'body.options.analysis.maxErrorRate',
      ],
    ];
    for (const [body, field] of cases) {
      const res = await deploy(body);
      expect(res.statusCode, res.body).toBe(400);
      expect(res.json().error.details.field).toBe(field);
      expect(res.json().error.message).toContain(field);
    }
    expect(await h.db.prisma.deployment.count()).toBe(count);
  });

  it('refuses to promote a release that has not succeeded upstream (409 with the reason)', async () => {
    // Staging claims 1.2.0 is live there, but no deployment of 1.2.0 ever succeeded in staging.
    const staging = await h.db.prisma.environment.findFirstOrThrow({ where: { name: 'staging' } });
    const faulty = await h.db.prisma.release.findFirstOrThrow({ where: { version: '1.2.0' } });
    await h.db.prisma.environment.update({ where: { id: staging.id }, data: { liveReleaseId: faulty.id } });
    const res = await h.post(`/apps/${APP}/environments/production/promote`, { reason: 'ship it' });
    expect(res.statusCode, res.body).toBe(409);
    expect(res.json().error.message).toMatch(/1\.2\.0 has not succeeded in staging/);
    expect(res.json().error.details.reason).toBe('not_succeeded_in_previous');
    const first = await h.post(`/apps/${APP}/environments/development/promote`, {});
    expect(first.statusCode).toBe(409);
    expect(first.json().error.details.reason).toBe('first_environment');
    await h.db.prisma.environment.update({ where: { id: staging.id }, data: { liveReleaseId: null } });
  });

  it('refuses to control a finished deployment (409)', async () => {
    const finished = await h.db.prisma.deployment.findFirstOrThrow({ where: { status: 'succeeded' } });
    for (const action of ['pause', 'resume', 'abort', 'advance', 'approve']) {
      const res = await h.post(`/deployments/${finished.id}/${action}`, { reason: 'too late' });
      expect(res.statusCode, `${action}: ${res.body}`).toBe(action === 'approve' ? 403 : 409);
    }
    const res = await h.post(`/deployments/${finished.id}/pause`);
    expect(res.json().error.message).toMatch(/finished deployment cannot be controlled/);
    const unknown = await h.post('/deployments/00000000-0000-4000-8000-000000000000/pause');
    expect(unknown.statusCode).toBe(404);
  });

  it('honours Idempotency-Key: the same request is answered once, a different body is refused', async () => {
    const body = { version: '1.1.0', strategy: 'blue-green', options: FAST };
    const key = { 'idempotency-key': 'deploy-1.1.0-dev' };
    const first = await deploy(body, key);
    expect(first.statusCode, first.body).toBe(202);
    const again = await deploy(body, key);
    expect(again.statusCode).toBe(202);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.json().id).toBe(first.json().id);
    const other = await deploy({ ...body, version: '1.2.0' }, key);
    expect(other.statusCode).toBe(409);
    expect(other.json().error.details.field).toBe('headers.idempotency-key');
    // Without the key, a second request is a second attempt: the environment is busy.
    expect((await deploy(body)).statusCode).toBe(409);
    expect(await h.db.prisma.deployment.count({ where: { release: { version: '1.1.0' } } })).toBe(1);
    expect((await h.until(first.json().id, FINAL)).status).toBe('succeeded');
  }, 40_000);
});
