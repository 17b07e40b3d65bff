// Deployment hooks against real processes: jobs started from the application's job launcher
// (apps/qubot-one/src/job.ts), with their output captured, a timeout, and a failure that stops
// the deployment before traffic moves (pre) or rolls it back (post).
import type { Environment, HookRun } from '@qubot/api-contract';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APP, FAST, type Harness, startHarness } from './test-helpers.ts';

let h: Harness;
const ENV = 'development';
const FINAL = ['succeeded', 'failed', 'rolled_back', 'aborted'];
const base = `/api/v1/apps/${APP}/environments/${ENV}`;

async function setHooks(body: object, role: 'admin' | 'release-manager' | 'deployer' = 'admin') {
  return h.app.inject({ method: 'PUT', url: `${base}/hooks`, headers: await h.as(role), payload: body });
}
async function runs(id: string): Promise<HookRun[]> {
  return (await h.get(`/deployments/${id}/hooks`)).items;
}
async function log(id: string, runId: string): Promise<string[]> {
  const res = await h.app.inject({
    method: 'GET',
    url: `/api/v1/deployments/${id}/hooks/${runId}/logs`,
    headers: await h.as('deployer'),
  });
  expect(res.statusCode, res.body).toBe(200);
  return res.json().lines;
}

beforeAll(async () => {
  h = await startHarness();
}, 60_000);
afterAll(async () => {
  await h?.close();
});

describe('hook settings', () => {
  it('are set by an admin only, with the job named, never a command line', async () => {
    expect((await setHooks({ pre: null, post: null }, 'release-manager')).statusCode).toBe(403);
    const bad = await setHooks({ pre: { job: 'migrate; rm -rf /', timeoutSeconds: 60 }, post: null });
    expect(bad.statusCode).toBe(400);
    expect(JSON.stringify(bad.json().error)).toContain('pre');
    const zero = await setHooks({ pre: { job: 'migrate', timeoutSeconds: 0 }, post: null });
    expect(zero.statusCode).toBe(400);
    expect(JSON.stringify(zero.json().error)).toContain('timeoutSeconds');
    const ok = await setHooks({ pre: { job: 'migrate', timeoutSeconds: 60 }, post: null });
    expect(ok.statusCode, ok.body).toBe(200);
    expect(ok.json()).toEqual({
      pre: { job: 'migrate', timeoutSeconds: 60 },
      post: null,
      jobLauncherSet: true,
    });
    const audit = await h.db.prisma.auditEntry.findFirstOrThrow({ where: { action: 'environment.hooks' } });
    expect(audit).toMatchObject({ actor: 'admin', target: `${APP}/${ENV}` });
  });

  it('a job launcher is checked like a launcher: unknown placeholders are refused naming the field', async () => {
    const res = await h.app.inject({
      method: 'PUT',
      url: `/api/v1/apps/${APP}/job-launcher`,
      headers: await h.as('admin'),
      payload: { jobLauncher: 'node job.js {job} {port}' },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.details.field).toBe('body.jobLauncher');
    expect(res.json().error.message).toContain('{port}');
  });
});

describe('hooks in deployments', () => {
  it('[HOOKS] pre-hook runs before anything starts, post-hook after traffic moved; both recorded with their output', async () => {
    await setHooks({
      pre: { job: 'migrate', timeoutSeconds: 60 },
      post: { job: 'smoke', timeoutSeconds: 30 },
    });
    const d = await h.deploy(ENV, { version: '1.0.0', strategy: 'blue-green', options: FAST });
    const done = await h.until(d.id, FINAL, 90_000);
    expect(done.status, JSON.stringify(done.steps)).toBe('succeeded');
    const steps = done.steps as { name: string; status: string; startedAt: string; finishedAt: string }[];
    expect(steps[0]).toMatchObject({ name: 'Pre-deployment hook: migrate', status: 'succeeded' });
    const post = steps.find((s) => s.name === 'Post-deployment hook: smoke');
    const sw = steps.find((s) => s.name.startsWith('Switch traffic'));
    expect(post?.status).toBe('succeeded');
    // Order in time: the migration finished before the first instance started; the smoke test ran
    // against the switched address.
    expect(Date.parse(steps[0]?.finishedAt as string)).toBeLessThanOrEqual(
      Date.parse(steps[1]?.startedAt as string),
    );
    expect(Date.parse(post?.startedAt as string)).toBeGreaterThanOrEqual(
      Date.parse(sw?.finishedAt as string),
    );
    const r = await runs(d.id);
    expect(r.map((x) => [x.phase, x.job, x.status, x.exitCode])).toEqual([
      ['pre', 'migrate', 'succeeded', 0],
      ['post', 'smoke', 'succeeded', 0],
    ]);
    expect((await log(d.id, r[0]?.id as string)).join('\n')).toContain('applied 003_backfill');
    expect((await log(d.id, r[1]?.id as string)).join('\n')).toContain('version 1.0.0');
  }, 120_000);

  it('[HOOKS] a failing pre-hook stops the deployment before any instance starts or traffic moves', async () => {
    await setHooks({ pre: { job: 'fail', timeoutSeconds: 30 }, post: null });
    const before = (await h.environment(ENV)) as Environment;
    const d = await h.deploy(ENV, { version: '1.1.0', strategy: 'canary', options: FAST });
    const done = await h.until(d.id, FINAL, 60_000);
    expect(done.status).toBe('failed');
    expect(done.error).toContain('pre-deployment hook fail failed');
    expect((done.steps as { status: string }[])[0]?.status).toBe('failed');
    const r = await runs(d.id);
    expect(r.map((x) => [x.status, x.exitCode])).toEqual([['failed', 1]]);
    expect((await log(d.id, r[0]?.id as string)).join('\n')).toContain('relation already exists');
    // Nothing of 1.1.0 was ever started, and the environment serves what it served.
    expect(await h.db.prisma.instance.count({ where: { deploymentId: d.id } })).toBe(0);
    const after = (await h.environment(ENV)) as Environment;
    expect(after.live?.version).toBe('1.0.0');
    expect(after.traffic).toEqual(before.traffic);
  }, 90_000);

  it('[HOOKS] a failing post-hook rolls the deployment back to the release that was live', async () => {
    await setHooks({ pre: null, post: { job: 'fail', timeoutSeconds: 30 } });
    const d = await h.deploy(ENV, { version: '1.1.0', strategy: 'blue-green', options: FAST });
    const done = await h.until(d.id, FINAL, 90_000);
    expect(done.status).toBe('rolled_back');
    const steps = done.steps as { name: string; status: string }[];
    expect(steps.find((s) => s.name === 'Post-deployment hook: fail')?.status).toBe('failed');
    expect(steps.find((s) => s.name.startsWith('Switch traffic'))?.status).toBe('succeeded');
    const env = (await h.environment(ENV)) as Environment;
    expect(env.live?.version).toBe('1.0.0');
    expect(env.traffic.find((t) => t.weight === 100)?.version).toBe('1.0.0');
    // The address answers with the old release again.
    const res = await fetch(env.address as string);
    expect(res.headers.get('x-qubot-version')).toBe('1.0.0');
    await res.arrayBuffer();
  }, 120_000);

  it('[HOOKS] a hook still running at its timeout is stopped and fails the deployment (timed_out)', async () => {
    await setHooks({ pre: { job: 'wait', timeoutSeconds: 1 }, post: null });
    const d = await h.deploy(ENV, { version: '1.1.0', strategy: 'rolling', options: FAST });
    const done = await h.until(d.id, FINAL, 60_000);
    expect(done.status).toBe('failed');
    const r = await runs(d.id);
    expect(r.map((x) => x.status)).toEqual(['timed_out']);
    expect(r[0]?.message).toContain('did not finish within 1s');
    expect(await h.db.prisma.instance.count({ where: { deploymentId: d.id } })).toBe(0);
  }, 90_000);

  it('hook logs need deployer; viewers see the runs but not their output', async () => {
    const d = await h.db.prisma.hookRun.findFirstOrThrow();
    const res = await h.app.inject({
      method: 'GET',
      url: `/api/v1/deployments/${d.deploymentId}/hooks/${d.id}/logs`,
      headers: await h.as('viewer'),
    });
    expect(res.statusCode).toBe(403);
    const list = await h.app.inject({
      method: 'GET',
      url: `/api/v1/deployments/${d.deploymentId}/hooks`,
      headers: await h.as('viewer'),
    });
    expect(list.statusCode).toBe(200);
  });
});
