// The fleet's day-two operations for real on one machine (docs/hosts.md): three Linux network
// namespaces act as hosts (test/netns.ts, names `qfa…`, 10.79.<k>.0/24), each running `qubot agent`
// (the real CLI). The control plane (API + worker, `main.ts --role all`) runs in a child process
// listening on the bridge, so it can be SIGKILLed and started again on the same address; this
// process serves the same database as an API-only control plane, for requests and assertions.
// Covered: a host drained under load (its instances move, 0 failed), a drain racing a deployment,
// a drain refused for lack of room, the control plane SIGKILLed mid-drain, the control plane
// SIGKILLed and restarted with agents connected (instances re-adopted, same pids), and blue-green
// and rolling across the hosts through HAProxy. Skips with a message where `ip netns` is denied.
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import type { Host } from '@qubot/api-contract';
import { freePort, isAlive } from '@qubot/runtime';
import { beforeAll, describe, expect, it } from 'vitest';
import { type LoadReport, startLoad } from '../../../../test/load.ts';
import {
  describeFleet,
  FLEET_ENV as ENV,
  enrolmentSecret,
  listHosts,
  placeOnHosts,
} from '../../../../test/netns.ts';
import { REPO_ROOT } from '../demo.ts';
import { APP, FAST, FINAL, type Harness, setTrafficProvider, settled, startHarness } from './test-helpers.ts';

describeFleet(
  '[hosts] a fleet in network namespaces: drain, restarts, HAProxy',
  { tag: '[fleet]', what: 'namespace fleet tests', hosts: 3, prefix: 'qfa', net: 79 },
  (suite) => {
    const { ran, agents, agentLog } = suite;
    let h: Harness;
    let port: number;
    let server: string;
    let cp: ChildProcess | null = null;
    const cpLog: string[] = [];

    const admin = async () => h.as('admin');
    const hosts = () => listHosts(h);
    const hostNamed = async (name: string) => (await hosts()).find((x) => x.name === name) as Host;
    const hostAction = async (name: string, action: string) =>
      h.app.inject({
        method: 'POST',
        url: `/api/v1/hosts/${(await hostNamed(name)).id}/${action}`,
        payload: { reason: `test ${action}` },
        headers: await admin(),
      });

    /** The control plane (API + worker) in a child process on the bridge; ready once /readyz is 200. */
    async function startControlPlane() {
      const child = spawn(
        process.execPath,
        [
          '--import',
          'tsx',
          join(REPO_ROOT, 'apps/api/src/main.ts'),
          '--role',
          'all',
          '--host',
          suite.fleet.gateway,
          '--port',
          String(port),
        ],
        {
          cwd: REPO_ROOT,
          env: {
            ...process.env,
            DATABASE_URL: h.db.url,
            QUBOT_DATA_DIR: h.dataDir,
            LOG_LEVEL: 'warn',
            QUBOT_BACKUP_EVERY_HOURS: 'off',
            QUBOT_RESTORE_DRILL_EVERY_HOURS: 'off',
          },
          stdio: ['ignore', 'ignore', 'pipe'],
        },
      );
      child.stderr?.on('data', (d: Buffer) => cpLog.push(d.toString().trim()));
      const deadline = Date.now() + 90_000;
      for (;;) {
        if (child.exitCode !== null) throw new Error(`control plane exited: ${cpLog.join('\n')}`);
        const ok = await fetch(`${server}/readyz`)
          .then((r) => r.status === 200)
          .catch(() => false);
        if (ok) break;
        if (Date.now() > deadline) throw new Error(`control plane not ready: ${cpLog.join('\n')}`);
        await new Promise((r) => setTimeout(r, 200));
      }
      cp = child;
      return child;
    }

    async function killControlPlane() {
      const child = cp;
      cp = null;
      if (!child || child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await exited;
    }

    /** `qubot agent` inside host i's namespace (capacity 2); enrols when given a token. */
    const startAgent = (i: number, token?: string) =>
      suite.startAgent(i, { server, capacity: 2, ...(token ? { token } : {}) });

    /** Until every host is connected and has reported since `since` (bounded; also in beforeAll). */
    async function connectedSince(since: Date, n = 3) {
      const deadline = Date.now() + 45_000;
      for (;;) {
        const count = await h.db.prisma.host.count({
          where: { connected: true, lastSeenAt: { gt: since }, lostAt: null },
        });
        if (count === n) return;
        if (Date.now() > deadline)
          throw new Error(`${count} of ${n} hosts back:\n${agentLog.slice(-10).join('\n')}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }

    /** Instance rows of the environment that run now, with their host's name. */
    const running = () =>
      h.db.prisma.instance.findMany({
        where: {
          environment: { name: ENV },
          status: { in: ['running', 'starting', 'unhealthy', 'stopping'] },
        },
        include: { enrolledHost: { select: { name: true } }, release: { select: { version: true } } },
        orderBy: { id: 'asc' },
      });
    const byHost = async () => {
      const n: Record<string, number> = {};
      for (const r of await running())
        n[r.enrolledHost?.name ?? 'local'] = (n[r.enrolledHost?.name ?? 'local'] ?? 0) + 1;
      return n;
    };

    /** Processes in host i's namespace other than its agent: the supervisors and their instances. */
    const instanceProcesses = (i: number) =>
      suite.fleet.pids(i).filter((p) => Number(p) !== agents.get(i)?.pid);

    /** The drain deployments of the environment, newest first. */
    const drains = () =>
      h.db.prisma.deployment.findMany({
        where: { environment: { name: ENV }, kind: 'drain' },
        orderBy: { createdAt: 'desc' },
      });

    /** What the environment's traffic provider serves: its targets (host:port) in the live pool. */
    async function servedTargets(): Promise<string[]> {
      const r = await h.db.prisma.environment.findFirstOrThrow({ where: { name: ENV } });
      const cfg = await h.app.orchestrator.runtime.providerFor(r)?.getConfig();
      return (cfg?.pools.find((p) => p.name === r.activeColor)?.targets ?? []).slice().sort();
    }

    async function expectConsistent(replicas: number) {
      const rows = (await running()).filter((r) => r.status === 'running');
      expect(rows).toHaveLength(replicas);
      for (const r of rows) expect(suite.fleet.supervisorsOf(r.id), r.id).toBe(1);
      await expect
        .poll(servedTargets, { timeout: 10_000 })
        .toEqual(rows.map((r) => `${r.host}:${r.port}`).sort());
    }

    beforeAll(async () => {
      h = await startHarness({ worker: false });
      suite.onClose(killControlPlane);
      suite.onClose(() => h.close());
      port = await freePort();
      server = `http://${suite.fleet.gateway}:${port}`;
      await startControlPlane();
      for (let i = 0; i < 3; i++) startAgent(i, await enrolmentSecret(h, `host-${i}`));
      await connectedSince(new Date(0));
      await placeOnHosts(h, APP, ENV, 3);
      const first = await h.deploy(ENV, {
        version: '1.0.0',
        strategy: 'blue-green',
        options: { ...FAST, autoSwitch: true, rollbackWindowSeconds: 0 },
      });
      expect((await h.until(first.id, FINAL, 120_000)).status).toBe('succeeded');
      await settled(h, ENV);
    }, 240_000);

    it('[race] a drain and a deployment on the same environment at once: exactly one proceeds', async () => {
      await settled(h, ENV);
      expect(await byHost()).toEqual({ 'host-0': 1, 'host-1': 1, 'host-2': 1 });
      const [drain, deploy] = await Promise.all([
        hostAction('host-2', 'drain'),
        h.post(`/apps/${APP}/environments/${ENV}/deployments`, {
          version: '1.1.0',
          strategy: 'rolling',
          reason: 'race',
          options: { ...FAST, maxSurge: 1, maxUnavailable: 0 },
        }),
      ]);
      const won = [drain.statusCode === 200, deploy.statusCode === 202];
      console.log(`[fleet] race: drain ${drain.statusCode}, deployment ${deploy.statusCode}`);
      expect(won.filter(Boolean), `${drain.body} | ${deploy.body}`).toHaveLength(1);
      if (drain.statusCode === 200) {
        expect(deploy.statusCode).toBe(409);
        const [d] = await drains();
        expect((await h.until(d?.id as string, FINAL, 120_000)).status).toBe('succeeded');
        expect(await hostNamed('host-2')).toMatchObject({ state: 'drained', instances: 0 });
      } else {
        expect(drain.statusCode).toBe(409);
        expect(drain.json().error.details).toMatchObject({ field: 'params.id', reason: 'active_deployment' });
        // Refused whole: the host still takes instances, no drain was created.
        expect(await hostNamed('host-2')).toMatchObject({ state: 'ready', scheduling: 'schedulable' });
        expect(await drains()).toHaveLength(0);
        expect((await h.until(deploy.json().id, FINAL, 120_000)).status).toBe('succeeded');
      }
      await settled(h, ENV);
      await expectConsistent(3);
      // Back to three ready hosts for what follows.
      expect((await hostAction('host-2', 'uncordon')).statusCode).toBe(200);
      ran.push('race');
    }, 240_000);

    it('a host drained under load: replacements serve on the other hosts first, 0 failed, the host ends drained', async () => {
      await settled(h, ENV);
      const target = Object.entries(await byHost()).find(
        ([name, n]) => name !== 'host-2' && n > 0,
      )?.[0] as string;
      const moving = (await byHost())[target] as number;
      const env = await h.environment(ENV);
      const load = startLoad(env.address, { rps: 150, concurrency: 4 });
      await expect.poll(() => load.snapshot().requests).toBeGreaterThan(30);
      const res = await hostAction(target, 'drain');
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json()).toMatchObject({ state: 'draining', scheduling: 'draining' });
      const [d] = await drains();
      expect(d).toMatchObject({ kind: 'drain', actor: 'admin' });
      // Visible like any deployment: the environment's active one (its replacements take seconds
      // to start), so a deployment now is refused.
      const view = await h.environment(ENV);
      expect(view.activeDeployment?.id).toBe(d?.id);
      const refused = await h.post(`/apps/${APP}/environments/${ENV}/deployments`, {
        version: '1.0.0',
        strategy: 'rolling',
        reason: 'during a drain',
      });
      expect(refused.statusCode, refused.body).toBe(409);
      expect(refused.json().error.details).toMatchObject({ activeDeploymentId: d?.id });
      const done = await h.until(d?.id as string, FINAL, 120_000);
      const report: LoadReport = await load.stop();
      console.log(
        `[fleet] drain of ${target} (${moving} instance(s)) under load: ${report.requests} requests, ${report.failed} failed`,
      );
      expect(done.status, JSON.stringify(done.steps)).toBe('succeeded');
      // Replacements first, all healthy and routed; only then the instances on the host drained and stopped.
      const steps = done.steps as { name: string; status: string; startedAt: string; finishedAt: string }[];
      expect(steps.map((s) => s.status)).toEqual(['succeeded', 'succeeded']);
      expect(steps[0]?.name).toMatch(
        new RegExp(`^Start ${moving} × \\S+ on (blue|green) away from ${target}$`),
      );
      expect(steps[1]?.name).toBe(`Drain and stop ${moving} on ${target}`);
      expect(Date.parse(steps[1]?.startedAt as string)).toBeGreaterThanOrEqual(
        Date.parse(steps[0]?.finishedAt as string),
      );
      expect(report.failed, report.errors.join(', ')).toBe(0);
      expect(await hostNamed(target)).toMatchObject({ state: 'drained', instances: 0 });
      expect((await byHost())[target]).toBeUndefined();
      await expectConsistent(3);
      const audit = await h.db.prisma.auditEntry.findMany({
        where: { action: { in: ['host.drain', 'environment.drain'] } },
        orderBy: { id: 'asc' },
      });
      expect(audit.filter((a) => a.action === 'host.drain').at(-1)).toMatchObject({ target, actor: 'admin' });
      expect(audit.filter((a) => a.action === 'environment.drain').at(-1)).toMatchObject({
        targetId: d?.id,
        targetType: 'deployment',
      });
      // Its steps went out as events, like every deployment's (the dashboard follows them live).
      expect(await h.db.prisma.event.count({ where: { deploymentId: d?.id } })).toBeGreaterThan(2);
      ran.push('drain-under-load');
    }, 240_000);

    it('a drain no other host has room for is refused (409 naming the host), and nothing moves', async () => {
      await settled(h, ENV);
      // One host drained; the other two hold 3 instances with room for 4: none can take 2 more.
      const counts = await byHost();
      const [full] = Object.entries(counts).sort((a, b) => b[1] - a[1])[0] as [string, number];
      const before = await running();
      const res = await hostAction(full, 'drain');
      expect(res.statusCode, res.body).toBe(409);
      expect(res.json().error).toMatchObject({ details: { field: 'params.id', reason: 'no_capacity' } });
      expect(res.json().error.message).toMatch(/no other host has room/);
      expect(await hostNamed(full)).toMatchObject({ state: 'ready', scheduling: 'schedulable' });
      expect((await running()).map((r) => r.id)).toEqual(before.map((r) => r.id));
      expect(await h.db.prisma.deployment.count({ where: { status: { in: ['pending', 'running'] } } })).toBe(
        0,
      );
      ran.push('drain-refused');
    }, 60_000);

    it('[crash] the control plane SIGKILLed mid-drain: started again, it finishes the drain, no instance doubled or lost', async () => {
      for (const x of await hosts()) if (x.state === 'drained') await hostAction(x.name, 'uncordon');
      await settled(h, ENV);
      const target = Object.entries(await byHost()).sort((a, b) => b[1] - a[1])[0]?.[0] as string;
      const env = await h.environment(ENV);
      const load = startLoad(env.address, { rps: 150, concurrency: 4 });
      const res = await hostAction(target, 'drain');
      expect(res.statusCode, res.body).toBe(200);
      const [d] = await drains();
      // The worst moment: a replacement's row is written, its process being started on another host.
      await expect
        .poll(() => h.db.prisma.instance.count({ where: { deploymentId: d?.id } }), {
          timeout: 30_000,
          interval: 5,
        })
        .toBeGreaterThan(0);
      await killControlPlane();
      expect((await h.deployment(d?.id as string)).status).toBe('running');
      const restarted = new Date();
      await startControlPlane();
      await connectedSince(restarted);
      const done = await h.until(d?.id as string, FINAL, 120_000);
      const report = await load.stop();
      console.log(
        `[fleet] control plane SIGKILLed mid-drain of ${target}: ${report.requests} requests, ${report.failed} failed; drain ${done.status}`,
      );
      expect(done.status, JSON.stringify(done.steps)).toBe('succeeded');
      expect(await hostNamed(target)).toMatchObject({ state: 'drained', instances: 0 });
      await expectConsistent(3);
      expect(report.failed, report.errors.join(', ')).toBe(0);
      ran.push('drain-crash');
    }, 300_000);

    it('the control plane SIGKILLed and restarted with agents connected: instances re-adopted (same pids), traffic flows, a deployment succeeds', async () => {
      for (const x of await hosts()) if (x.state === 'drained') await hostAction(x.name, 'uncordon');
      await settled(h, ENV);
      const rows = await running();
      const procs = [0, 1, 2].map(instanceProcesses);
      const envRow = await h.db.prisma.environment.findFirstOrThrow({ where: { name: ENV } });
      const routerPid = envRow.routerPid;
      const env = await h.environment(ENV);
      const load = startLoad(env.address, { rps: 150, concurrency: 4 });
      await expect.poll(() => load.snapshot().requests).toBeGreaterThan(30);
      const killedAt = load.mark();
      await killControlPlane();
      const restarted = new Date();
      await startControlPlane();
      await connectedSince(restarted);
      const downtime = load.since(killedAt);
      console.log(
        `[fleet] control plane SIGKILLed and restarted: ${downtime.requests} requests from the kill until the agents were back, ${downtime.failed} failed; router pid ${routerPid} ${routerPid && isAlive(routerPid) ? 'survived' : 'was restarted'}`,
      );
      // The same instance processes and supervisors: nothing restarted, nothing replaced.
      expect([0, 1, 2].map(instanceProcesses)).toEqual(procs);
      expect((await running()).map((r) => [r.id, r.status])).toEqual(rows.map((r) => [r.id, r.status]));
      expect(routerPid && isAlive(routerPid)).toBe(true);
      expect(downtime.failed, downtime.errors.join(', ')).toBe(0);
      // And the control plane works on: a deployment across the hosts, under the same load.
      const d = await h.deploy(ENV, {
        version: '1.2.0',
        strategy: 'rolling',
        options: { ...FAST, maxSurge: 1, maxUnavailable: 0 },
      });
      expect((await h.until(d.id, FINAL, 120_000)).status).toBe('succeeded');
      const report = await load.stop();
      console.log(
        `[fleet] rolling after the restart: ${report.requests} requests in all, ${report.failed} failed`,
      );
      expect(report.failed, report.errors.join(', ')).toBe(0);
      await settled(h, ENV);
      await expectConsistent(3);
      ran.push('control-plane-restart');
    }, 300_000);

    describe('through HAProxy', () => {
      it('HAProxy balances across the hosts: its own checks see the namespace addresses up', async () => {
        await settled(h, ENV);
        await setTrafficProvider(h, ENV, 'haproxy');
        await expect
          .poll(async () => (await h.environment(ENV)).trafficProvider, { timeout: 60_000 })
          .toBe('haproxy');
        await settled(h, ENV);
        const r = await h.db.prisma.environment.findFirstOrThrow({ where: { name: ENV } });
        const provider = h.app.orchestrator.runtime.providerFor(r);
        expect(provider?.kind).toBe('haproxy');
        const rows = (await running()).filter((x) => x.status === 'running');
        await expect
          .poll(
            async () =>
              ((await provider?.health())?.targets ?? [])
                .filter((t) => t.pool === r.activeColor && t.up)
                .map((t) => t.target)
                .sort(),
            { timeout: 20_000 },
          )
          .toEqual(rows.map((x) => `${x.host}:${x.port}`).sort());
        for (const x of rows) expect(suite.fleet.hosts.map((f) => f.address)).toContain(x.host);
        ran.push('haproxy-checks');
      }, 120_000);

      for (const [strategy, version, options] of [
        ['blue-green', '1.1.0', { autoSwitch: true, rollbackWindowSeconds: 0 }],
        ['rolling', '1.0.0', { maxSurge: 1, maxUnavailable: 0 }],
      ] as const) {
        it(`${strategy} across 3 hosts through HAProxy: 0 failed requests`, async () => {
          await settled(h, ENV);
          const env = await h.environment(ENV);
          expect(env.trafficProvider).toBe('haproxy');
          const load = startLoad(env.address, { rps: 150, concurrency: 4 });
          await expect.poll(() => load.snapshot().requests).toBeGreaterThan(30);
          const d = await h.deploy(ENV, { version, strategy, options: { ...FAST, ...options } });
          const done = await h.until(d.id, FINAL, 120_000);
          const report = await load.stop();
          console.log(
            `[fleet] ${strategy} through HAProxy: ${report.requests} requests, ${report.failed} failed`,
            JSON.stringify(report.versions),
          );
          expect(done.status).toBe('succeeded');
          expect(report.failed, report.errors.join(', ')).toBe(0);
          expect(report.versions[version]).toBeGreaterThan(0);
          await settled(h, ENV);
          expect(new Set((await running()).map((x) => x.enrolledHost?.name)).size).toBe(3);
          ran.push(`haproxy-${strategy}`);
        }, 180_000);
      }
    });
  },
);
