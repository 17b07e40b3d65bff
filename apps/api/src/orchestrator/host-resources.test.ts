// Limits on hosts (docs/hosts.md, "Limits on hosts"): a real `qubot agent` on 127.0.0.1 runs an
// instance of an environment placed on hosts with a 64 MiB memory limit, in a real control group;
// the figures the agent reports (limit, peak) reach the control plane's driver, and an instance
// killed by its limit shows as `oom_killed` with the figures, in the view and the event log — as
// for instances on this machine (resources.test.ts). Needs writable control groups (root).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { awaitOomKilled, FAST, FINAL, type Harness, startHarness, startLocalAgent } from './test-helpers.ts';

const MiB = 1024 * 1024;
let h: Harness;
let agent: Awaited<ReturnType<typeof startLocalAgent>> | null = null;
let cgroups = false;
let why: string | null = null;

interface InstanceView {
  id: string;
  status: string;
  host: string;
  port: number;
  limits: { memoryMb: number | null };
}

beforeAll(async () => {
  h = await startHarness({ healthMonitorIntervalMs: 200, agents: { heartbeatMs: 300 } });
  const info = await h.get('/runtime');
  cgroups = info.capabilities.cgroups;
  why = info.capabilities.cgroupsUnavailable;
  const server = await h.app.listen({ host: '127.0.0.1', port: 0 });
  agent = await startLocalAgent(h, server, 'limited');
}, 90_000);

afterAll(async () => {
  await agent?.stop();
  await h?.close();
  console.log(cgroups ? 'host limit tests: 1 ran with control groups' : `host limit tests: 0 ran — ${why}`);
}, 60_000);

describe('[hosts] limits on a host', () => {
  it('an instance on a host runs in its control group (reported figures), and its OOM kill shows as oom_killed with them', async (ctx) => {
    if (!cgroups) return ctx.skip(`control groups are not writable here: ${why}`);
    const admin = await h.as('admin');
    const send = (method: 'POST' | 'PATCH' | 'PUT', url: string, payload: object) =>
      h.app.inject({ method, url: `/api/v1${url}`, headers: admin, payload });
    const created = await send('POST', '/apps', {
      name: 'hog',
      launcher: 'node packages/runtime/src/test-fixtures/hog.mjs {artifact}',
      environments: [{ name: 'dev', replicas: 1 }],
    });
    expect(created.statusCode, created.body).toBe(201);
    expect((await send('POST', '/apps/hog/releases', { version: '1.0.0', artifact: 'hog' })).statusCode).toBe(
      201,
    );
    const placed = await send('PATCH', '/apps/hog/environments/dev/settings', { placement: 'hosts' });
    expect(placed.statusCode, placed.body).toBe(200);
    const limit = await send('PUT', '/apps/hog/environments/dev/resources', { memoryMb: 64 });
    expect(limit.statusCode, limit.body).toBe(200);
    const dep = await send('POST', '/apps/hog/environments/dev/deployments', {
      version: '1.0.0',
      strategy: 'rolling',
      options: FAST,
    });
    expect(dep.statusCode, dep.body).toBe(202);
    const end = await h.until(dep.json().id, FINAL, 90_000);
    expect(end.status, `${JSON.stringify(end.steps)}\n${agent?.log.join('\n')}`).toBe('succeeded');
    const [inst] = (await h.get('/apps/hog/environments/dev')).instances as InstanceView[];
    if (!inst) throw new Error('no instance');
    const row = await h.db.prisma.instance.findUniqueOrThrow({ where: { id: inst.id } });
    expect(row.hostId).not.toBeNull();
    // The agent's reports carry the control group's figures: the limit is the environment's.
    await expect
      .poll(() => h.app.orchestrator.driver.resourceUsage({ id: inst.id })?.memoryLimitBytes ?? null, {
        timeout: 15_000,
      })
      .toBe(64 * MiB);
    const event = await awaitOomKilled(h, 'hog', 'dev', inst, 64);
    const usage = h.app.orchestrator.driver.resourceUsage({ id: inst.id });
    expect(usage?.oomKills).toBeGreaterThanOrEqual(1);
    console.log(`host oom: ${JSON.stringify(event)}; usage ${JSON.stringify(usage)}`);
  }, 240_000);
});
