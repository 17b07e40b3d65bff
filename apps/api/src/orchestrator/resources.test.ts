// Vertical scaling end to end, with real control groups and real processes: a limits change on a
// live environment rolls the instances (a deployment of the same release, audited) into groups with
// the new limits; concurrent changes have one winner; an instance killed by its memory limit shows
// as `oom_killed` with the figures, in the environment's view and in the event log. Needs writable
// control groups (root): elsewhere the limits tests say why they do not run, and how many ran.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { observe } from './health-monitor.ts';
import { APP, awaitOomKilled, FAST, FINAL, type Harness, startHarness } from './test-helpers.ts';

const MiB = 1024 * 1024;
let h: Harness;
let cgroups = false;
let why: string | null = null;
let ran = 0;

interface InstanceView {
  id: string;
  status: string;
  host: string;
  port: number;
  limits: { memoryMb: number | null; cpus: number | null };
}

beforeAll(async () => {
  h = await startHarness({ healthMonitorIntervalMs: 200 });
  const info = await h.get('/runtime');
  cgroups = info.capabilities.cgroups;
  why = info.capabilities.cgroupsUnavailable;
}, 60_000);

afterAll(async () => {
  await h?.close();
  console.log(
    cgroups
      ? `resource limit tests: ${ran} ran with control groups`
      : `resource limit tests: 0 ran — control groups are not writable here: ${why}`,
  );
});

const put = async (
  env: string,
  body: object,
  app = APP,
  role: 'release-manager' | 'admin' = 'release-manager',
) =>
  h.app.inject({
    method: 'PUT',
    url: `/api/v1/apps/${app}/environments/${env}/resources`,
    payload: body,
    headers: await h.as(role),
  });

describe('resources API', () => {
  it('GET /runtime declares the driver and whether limits are enforced', async () => {
    const info = await h.get('/runtime');
    expect(info).toMatchObject({ driver: 'local', capabilities: { hosts: 'local' } });
    // Enforced (with the hierarchy used), or not — and then why.
    if (info.capabilities.cgroups) {
      expect(info.capabilities).toMatchObject({
        cgroupsUnavailable: null,
        cgroupVersion: expect.any(Number),
      });
    } else {
      expect(info.capabilities.cgroupsUnavailable).toEqual(expect.any(String));
    }
  });

  it('bad input names the field; a viewer may not change limits', async () => {
    expect((await put('development', {})).json().error.message).toMatch(/memoryMb or cpus/);
    const low = await put('development', { memoryMb: 1 });
    expect(low.statusCode).toBe(400);
    expect(low.body).toMatch(/memoryMb/);
    const res = await h.app.inject({
      method: 'PUT',
      url: `/api/v1/apps/${APP}/environments/development/resources`,
      payload: { memoryMb: 128 },
      headers: await h.as('viewer'),
    });
    expect(res.statusCode).toBe(403);
  });

  it('an OOM observation is its own status, not a crash or a plain failure', () => {
    const st = { supervisorAlive: true, alive: false, restarts: 1, state: 'backoff', lastExitReason: 'oom' };
    expect(observe(st, null, 0).status).toBe('oom_killed');
    expect(observe({ ...st, lastExitReason: 'signal' }, null, 0).status).toBe('unhealthy');
    expect(observe({ ...st, alive: true }, true, 0).status).toBe('running');
  });
});

describe('with control groups', () => {
  it('a limits change on a live environment rolls every instance into a group with the new limits (audited)', async (ctx) => {
    if (!cgroups) return ctx.skip(`control groups are not writable here: ${why}`);
    ran++;
    const first = await h.deploy('development', { version: '1.0.0', strategy: 'rolling', options: FAST });
    expect((await h.until(first.id, FINAL, 90_000)).status).toBe('succeeded');
    const before = (await h.environment('development')).instances as InstanceView[];
    expect(before.length).toBeGreaterThan(0);
    expect(before.every((i) => i.limits.memoryMb === null && i.host === '127.0.0.1')).toBe(true);

    const res = await put('development', { memoryMb: 256, cpus: 0.5, reason: 'tighter' });
    expect(res.statusCode, res.body).toBe(200);
    const change = res.json();
    expect(change).toMatchObject({
      enforced: true,
      environment: { resources: { memoryMb: 256, cpus: 0.5 } },
    });
    expect(change.deployment).toMatchObject({ release: { version: '1.0.0' }, strategy: 'rolling' });
    expect((await h.until(change.deployment.id, FINAL, 90_000)).status).toBe('succeeded');

    const after = (await h.environment('development')).instances as InstanceView[];
    expect(after).toHaveLength(before.length);
    expect(after.some((i) => before.some((b) => b.id === i.id))).toBe(false);
    const driver = h.app.orchestrator.driver;
    for (const i of after) {
      expect(i.limits).toEqual({ memoryMb: 256, cpus: 0.5 });
      // The kernel's view, not only the row's.
      expect(driver.resourceUsage({ id: i.id })?.memoryLimitBytes).toBe(256 * MiB);
    }
    // The retired instances' groups went with them.
    for (const b of before) expect(driver.resourceUsage({ id: b.id })).toBeNull();
    const audit = await h.get('/audit?action=environment.resources');
    expect(audit.items[0]).toMatchObject({
      action: 'environment.resources',
      target: `${APP}/development`,
      before: { memoryMb: null, cpus: null },
      after: { memoryMb: 256, cpus: 0.5, enforced: true },
    });
    // The same limits again change and roll nothing.
    const again = await put('development', { memoryMb: 256, cpus: 0.5 });
    expect(again.json().deployment).toBeNull();
  }, 240_000);

  it('race: concurrent limit changes — exactly one wins, and what runs is what it set', async (ctx) => {
    if (!cgroups) return ctx.skip(`control groups are not writable here: ${why}`);
    ran++;
    const results = await Promise.all([300, 400, 500].map((memoryMb) => put('development', { memoryMb })));
    const won = results.filter((r) => r.statusCode === 200);
    expect(won, results.map((r) => r.body).join('\n')).toHaveLength(1);
    expect(results.filter((r) => r.statusCode === 409)).toHaveLength(2);
    const winner = won[0]?.json();
    const memoryMb = winner.environment.resources.memoryMb as number;
    expect((await h.until(winner.deployment.id, FINAL, 120_000)).status).toBe('succeeded');
    const env = await h.environment('development');
    expect(env.resources.memoryMb).toBe(memoryMb);
    for (const i of env.instances as InstanceView[]) {
      expect(i.limits.memoryMb).toBe(memoryMb);
      expect(h.app.orchestrator.driver.resourceUsage({ id: i.id })?.memoryLimitBytes).toBe(memoryMb * MiB);
    }
    const entries = (await h.get('/audit?action=environment.resources')).items;
    expect(
      entries.filter((e: { after: { memoryMb: number } }) => [300, 400, 500].includes(e.after.memoryMb)),
    ).toHaveLength(1);
  }, 240_000);

  it('an instance allocating past its memory limit shows as oom_killed with the figures, in the view and the event log', async (ctx) => {
    if (!cgroups) return ctx.skip(`control groups are not writable here: ${why}`);
    ran++;
    const admin = await h.as('admin');
    const created = await h.app.inject({
      method: 'POST',
      url: '/api/v1/apps',
      headers: admin,
      payload: {
        name: 'hog',
        launcher: 'node packages/runtime/src/test-fixtures/hog.mjs {artifact}',
        environments: [{ name: 'dev', replicas: 1 }],
      },
    });
    expect(created.statusCode, created.body).toBe(201);
    const rel = await h.app.inject({
      method: 'POST',
      url: '/api/v1/apps/hog/releases',
      headers: admin,
      payload: { version: '1.0.0', artifact: 'hog' },
    });
    expect(rel.statusCode, rel.body).toBe(201);
    // Nothing live yet: the limit is recorded for the first deployment, nothing rolls.
    const limit = await put('dev', { memoryMb: 64 }, 'hog');
    expect(limit.statusCode, limit.body).toBe(200);
    expect(limit.json().deployment).toBeNull();
    const dep = await h.app.inject({
      method: 'POST',
      url: '/api/v1/apps/hog/environments/dev/deployments',
      headers: admin,
      payload: { version: '1.0.0', strategy: 'rolling', options: FAST },
    });
    expect(dep.statusCode, dep.body).toBe(202);
    expect((await h.until(dep.json().id, FINAL, 90_000)).status).toBe('succeeded');
    const [inst] = (await h.get('/apps/hog/environments/dev')).instances as InstanceView[];
    if (!inst) throw new Error('no instance');
    expect(inst.limits.memoryMb).toBe(64);
    console.log(`oom: ${JSON.stringify(await awaitOomKilled(h, 'hog', 'dev', inst, 64))}`);
  }, 240_000);
});
