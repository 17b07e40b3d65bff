// Hosts for real on one machine (docs/hosts.md): three Linux network namespaces act as hosts, each
// with its own address on a private bridge, each running `qubot agent` (the real CLI, enrolled with
// a real one-time token). The control plane listens on the bridge; the environment's Node router
// runs in the root namespace and balances across the hosts; load comes from the root namespace.
// Skips with a clear message where `ip netns add` is not permitted (not root).
import type { ChildProcess } from 'node:child_process';
import type { Host } from '@qubot/api-contract';
import { beforeAll, expect, it } from 'vitest';
import { type LoadReport, startLoad } from '../../../../test/load.ts';
import {
  describeFleet,
  FLEET_ENV as ENV,
  enrolmentSecret,
  listHosts,
  placeOnHosts,
} from '../../../../test/netns.ts';
import { APP, FAST, FINAL, type Harness, settled, startHarness } from './test-helpers.ts';

const FLEET = { tag: '[hosts]', what: 'namespace host tests', hosts: 3 };

describeFleet('[hosts] agents in network namespaces', FLEET, (suite) => {
  const { ran, agents, agentLog } = suite;
  let h: Harness;
  let server: string;

  const hosts = () => listHosts(h);
  /** `qubot agent` inside host i's namespace; enrols when given a token. */
  const startAgent = (i: number, token?: string) =>
    suite.startAgent(i, { server, ...(token ? { token } : {}) });

  /** Until `n` hosts are ready (their agents connected and reporting); bounded, also in beforeAll. */
  async function readyHosts(n: number) {
    const deadline = Date.now() + 30_000;
    let seen: Host[] = [];
    while (Date.now() < deadline) {
      seen = await hosts();
      if (seen.filter((x) => x.state === 'ready').length === n) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(
      `hosts not ready: ${JSON.stringify(seen.map((x) => [x.name, x.state]))}\n${agentLog.join('\n')}`,
    );
  }

  /** Instance rows of the environment that run now, with their host's name. */
  const running = () =>
    h.db.prisma.instance.findMany({
      where: { environment: { name: ENV }, status: { in: ['running', 'starting', 'unhealthy'] } },
      include: { enrolledHost: { select: { name: true } }, release: { select: { version: true } } },
    });

  /** Until no deployment of the environment is active (e.g. a replacement scale after a slow agent restart). */
  async function noActiveDeployment() {
    await expect
      .poll(
        () =>
          h.db.prisma.deployment.count({
            where: { environment: { name: ENV }, status: { in: ['pending', 'running', 'paused'] } },
          }),
        { timeout: 60_000 },
      )
      .toBe(0);
  }

  beforeAll(async () => {
    h = await startHarness({ agents: { heartbeatMs: 300, lostAfterMs: 6_000, checkIntervalMs: 250 } });
    suite.onClose(() => h.close());
    server = await h.app.listen({ host: suite.fleet.gateway, port: 0 });
    for (let i = 0; i < 3; i++) startAgent(i, await enrolmentSecret(h, `host-${i}`));
    await readyHosts(3);
    await placeOnHosts(h, APP, ENV, 3);
    const first = await h.deploy(ENV, {
      version: '1.0.0',
      strategy: 'blue-green',
      options: { ...FAST, autoSwitch: true },
    });
    expect((await h.until(first.id, FINAL, 90_000)).status).toBe('succeeded');
  }, 180_000);

  const deployUnderLoad = async (body: object): Promise<{ status: string; load: LoadReport }> => {
    await noActiveDeployment();
    const env = await h.environment(ENV);
    const load = startLoad(env.address, { rps: 150, concurrency: 4 });
    await expect.poll(() => load.snapshot().requests).toBeGreaterThan(30);
    const d = await h.deploy(ENV, body);
    const done = await h.until(d.id, FINAL, 90_000);
    const report = await load.stop();
    return { status: done.status, load: report };
  };

  it('places the instances across the three hosts, one each, at their own addresses', async () => {
    const rows = await running();
    expect(rows).toHaveLength(3);
    expect(new Set(rows.map((r) => r.enrolledHost?.name))).toEqual(new Set(['host-0', 'host-1', 'host-2']));
    for (const r of rows) expect(suite.fleet.hosts.map((x) => x.address)).toContain(r.host);
    const view = await h.environment(ENV);
    expect(view.placement).toBe('hosts');
    expect(view.instances.map((i: { hostName: string }) => i.hostName).sort()).toEqual([
      'host-0',
      'host-1',
      'host-2',
    ]);
    const list = await hosts();
    for (const x of list) {
      expect(x).toMatchObject({ state: 'ready', instances: 1, agentVersion: '0.1.0', connected: true });
      expect(x.memoryTotalBytes).toBeGreaterThan(0);
    }
    ran.push('placement');
  });

  it('rolling across 3 hosts: 0 failed requests', async () => {
    const { status, load } = await deployUnderLoad({
      version: '1.1.0',
      strategy: 'rolling',
      options: { ...FAST, maxSurge: 1, maxUnavailable: 0 },
    });
    console.log(
      `[hosts] rolling: ${load.requests} requests, ${load.failed} failed`,
      JSON.stringify(load.versions),
    );
    expect(status).toBe('succeeded');
    expect(load.failed, load.errors.join(', ')).toBe(0);
    expect(load.versions['1.1.0']).toBeGreaterThan(0);
    expect(new Set((await running()).map((r) => r.enrolledHost?.name)).size).toBe(3);
    ran.push('rolling');
  }, 120_000);

  it('blue-green across 3 hosts: 0 failed requests', async () => {
    const { status, load } = await deployUnderLoad({
      version: '1.2.0',
      strategy: 'blue-green',
      options: { ...FAST, autoSwitch: true },
    });
    console.log(
      `[hosts] blue-green: ${load.requests} requests, ${load.failed} failed`,
      JSON.stringify(load.versions),
    );
    expect(status).toBe('succeeded');
    expect(load.failed, load.errors.join(', ')).toBe(0);
    ran.push('blue-green');
  }, 120_000);

  it('canary across 3 hosts: 0 failed requests', async () => {
    const { status, load } = await deployUnderLoad({
      version: '1.1.0',
      strategy: 'canary',
      options: { ...FAST, steps: [34, 67], stepDurationSeconds: 1, analysis: { minRequests: 20 } },
    });
    console.log(
      `[hosts] canary: ${load.requests} requests, ${load.failed} failed`,
      JSON.stringify(load.versions),
    );
    expect(status).toBe('succeeded');
    expect(load.failed, load.errors.join(', ')).toBe(0);
    ran.push('canary');
  }, 120_000);

  it('an agent SIGKILLed and started again re-adopts its instances without restarting them', async () => {
    // The canary's clean-up done first: an instance it retires meanwhile would not be re-adopted.
    await settled(h, ENV);
    const before = (await running()).filter((r) => r.enrolledHost?.name === 'host-0');
    expect(before.length).toBeGreaterThan(0);
    const hub = h.app.orchestrator.agentHub;
    const hostId = before[0]?.hostId as string;
    // What the agent reported before it died: each instance's process and supervisor.
    const pids = new Map(before.map((r) => [r.id, hub.reportOf(hostId, r.id)]));
    for (const p of pids.values()) expect(p?.pid).toBeGreaterThan(0);
    const agent = agents.get(0) as ChildProcess;
    const exited = new Promise((r) => agent.once('exit', r));
    agent.kill('SIGKILL');
    await exited;
    // Its instances keep serving without it.
    for (const r of before) expect((await fetch(`http://${r.host}:${r.port}/healthz`)).status).toBe(200);
    await expect.poll(async () => (await hosts()).find((x) => x.name === 'host-0')?.connected).toBe(false);
    startAgent(0);
    await readyHosts(3);
    await expect.poll(() => hub.reportsOf(hostId).length, { timeout: 10_000 }).toBeGreaterThan(0);
    for (const r of before) {
      // The same instance process (same pid, never restarted) under the same supervisor.
      expect(hub.reportOf(hostId, r.id)).toMatchObject({
        alive: true,
        pid: pids.get(r.id)?.pid,
        supervisorPid: pids.get(r.id)?.supervisorPid,
        restarts: 0,
      });
    }
    const after = (await running()).filter((r) => r.enrolledHost?.name === 'host-0');
    expect(after.map((r) => r.id)).toEqual(before.map((r) => r.id));
    ran.push('agent-restart');
  }, 60_000);

  it('[crash] an agent SIGKILLed while it starts instances: restarted, no instance runs twice, the deployment completes', async () => {
    await noActiveDeployment();
    const d = await h.deploy(ENV, {
      version: '1.0.0',
      strategy: 'rolling',
      options: { ...FAST, maxSurge: 1, maxUnavailable: 0 },
    });
    // The worst moment: the first new instance is placed on host-0 and being started there.
    await expect
      .poll(
        async () =>
          (await running()).some(
            (r) =>
              r.release.version === '1.0.0' && r.enrolledHost?.name === 'host-0' && r.status === 'starting',
          ),
        { timeout: 30_000, interval: 20 },
      )
      .toBe(true);
    const agent = agents.get(0) as ChildProcess;
    const exited = new Promise((r) => agent.once('exit', r));
    agent.kill('SIGKILL');
    await exited;
    startAgent(0);
    const done = await h.until(d.id, FINAL, 120_000);
    expect(done.status, JSON.stringify(done.steps)).toBe('succeeded');
    // Every instance on host-0 has exactly one supervisor (its spec file names it): none started twice.
    for (const r of (await running()).filter((x) => x.enrolledHost?.name === 'host-0')) {
      expect(suite.fleet.supervisorsOf(r.id), r.id).toBe(1);
    }
    ran.push('agent-crash-mid-start');
  }, 180_000);

  it('a host cut off mid-rolling is lost, its instances replaced elsewhere, the deployment completes', async () => {
    await noActiveDeployment();
    const env = await h.environment(ENV);
    const load = startLoad(env.address, { rps: 150, concurrency: 4 });
    await expect.poll(() => load.snapshot().requests).toBeGreaterThan(30);
    const d = await h.deploy(ENV, {
      version: '1.2.0',
      strategy: 'rolling',
      options: { ...FAST, maxSurge: 1, maxUnavailable: 0 },
    });
    // Cut host-2 as soon as the rolling has started its first new instance.
    await expect
      .poll(async () => (await running()).some((r) => r.release.version === '1.2.0'), { timeout: 30_000 })
      .toBe(true);
    const cutAt = load.mark();
    suite.fleet.cut(2);
    await expect
      .poll(async () => (await hosts()).find((x) => x.name === 'host-2')?.state, { timeout: 20_000 })
      .toBe('lost');
    const done = await h.until(d.id, FINAL, 120_000);
    const report = await load.stop();
    const lostWindow = load.since(cutAt);
    console.log(
      `[hosts] host cut mid-rolling: ${report.requests} requests, ${report.failed} failed (all after the cut: ${lostWindow.failed}); errors: ${report.errors.slice(0, 5).join(' | ')}`,
    );
    expect(done.status, JSON.stringify(done.steps)).toBe('succeeded');
    // Only requests from the cut on can have failed (those in flight on the dead host).
    expect(report.failed - lostWindow.failed).toBe(0);
    const lostRows = await h.db.prisma.instance.findMany({ where: { status: 'lost' } });
    expect(lostRows.length).toBeGreaterThan(0);
    const audit = await h.db.prisma.auditEntry.findMany({ where: { action: 'host.lost' } });
    expect(audit.length).toBeGreaterThan(0);
    // Replaced elsewhere: the environment runs its 3 replicas of the new release, none on host-2.
    await expect
      .poll(
        async () => {
          const rows = (await running()).filter((r) => r.release.version === '1.2.0' && r.healthy);
          return rows.length >= 3 && rows.every((r) => r.enrolledHost?.name !== 'host-2');
        },
        { timeout: 60_000 },
      )
      .toBe(true);
    suite.fleet.restore(2);
    ran.push('host-lost');
  }, 180_000);
});
