// The worker (a real child process) is SIGKILLed while a blue-green deployment is bringing up the
// new colour's pods on a Kubernetes runtime target (an emulated API server: no real cluster can run
// here; its pods outlive the worker, as a cluster's do). The next worker resumes from the stored
// state and the cluster's objects: the deployment finishes, every pod is claimed by exactly one
// running instance row, and nothing was started twice.
import type { ChildProcess } from 'node:child_process';
import type { EmulatedApiServer } from '@qubot/runtime/test-apiserver';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Orchestrator } from './orchestrator.ts';
import {
  APP,
  FAST,
  type Harness,
  pointAtEmulatedCluster,
  spawnWorkerProcess,
  startHarness,
  startWorker,
} from './test-helpers.ts';

const FINAL = ['succeeded', 'failed', 'rolled_back', 'aborted'];
const ENV = 'development';
const NS = 'qubot-crash';

describe('[ENGINE] control plane crash on the Kubernetes runtime (emulated API server)', () => {
  let h: Harness;
  let api: EmulatedApiServer;
  let cluster: Awaited<ReturnType<typeof pointAtEmulatedCluster>>;
  let worker: ChildProcess | null = null;
  let resumer: Orchestrator | null = null;

  beforeAll(async () => {
    h = await startHarness({ worker: false });
    cluster = await pointAtEmulatedCluster(h, ENV, NS);
    api = cluster.api;
    const env = await h.db.prisma.environment.findFirstOrThrow({ where: { name: ENV } });
    await h.db.prisma.environment.update({ where: { id: env.id }, data: { replicas: 4 } });
    worker = spawnWorkerProcess(h);
    const d = await h.deploy(ENV, { version: '1.0.0', strategy: 'blue-green', options: FAST });
    expect((await h.until(d.id, FINAL, 90_000)).status).toBe('succeeded');
  }, 150_000);

  afterAll(async () => {
    if (worker && worker.exitCode === null) worker.kill('SIGKILL');
    await resumer?.stop();
    await h?.close();
    await cluster?.close();
  }, 60_000);

  it('SIGKILL while the green pods start: the next worker converges from the cluster, nothing doubled', async () => {
    const d = await h.deploy(ENV, {
      version: '1.1.0',
      strategy: 'blue-green',
      options: { ...FAST, autoSwitch: true },
    });
    // Kill the worker once the first green pod exists and before all four are claimed.
    const deadline = Date.now() + 60_000;
    let seen = 0;
    while (Date.now() < deadline) {
      seen = api.list('pods', NS, 'qubot.dev/color=green').length;
      if (seen >= 1) break;
      await new Promise((r) => setImmediate(r));
    }
    expect(seen).toBeGreaterThanOrEqual(1);
    worker?.kill('SIGKILL');
    await new Promise((r) => worker?.once('exit', r));
    const claimedAtKill = api
      .list('pods', NS, 'qubot.dev/color=green')
      .filter((p) => p.metadata.labels?.['qubot.dev/instance']).length;
    expect(claimedAtKill).toBeLessThan(4);

    resumer = await startWorker(h);
    const done = await h.until(d.id, FINAL, 120_000);
    expect(done.status, JSON.stringify(done.steps)).toBe('succeeded');

    const green = api.list('pods', NS, 'qubot.dev/color=green').filter((p) => !p.metadata.deletionTimestamp);
    const rows = await h.db.prisma.instance.findMany({
      where: { environment: { name: ENV }, pool: 'green', status: 'running' },
    });
    // Four pods, four running rows, the same ones: no pod without its row, no row without its pod.
    expect(green).toHaveLength(4);
    expect(rows).toHaveLength(4);
    expect(green.map((p) => p.metadata.labels?.['qubot.dev/instance']).sort()).toEqual(
      rows.map((r) => r.id).sort(),
    );
    expect(api.get('deployments', NS, `${APP}-${ENV}-green`)?.spec?.replicas).toBe(4);
    for (const r of rows) {
      const pod = green.find((p) => p.metadata.labels?.['qubot.dev/instance'] === r.id);
      expect(r.host).toBe(pod?.status?.podIP);
    }
    expect((await h.environment(ENV)).live.version).toBe('1.1.0');
  }, 180_000);

  it('SIGKILL after the stable Service’s selector moved, before the deployment recorded the switch: the next worker converges, nothing doubled', async () => {
    await resumer?.stop();
    resumer = null;
    worker = spawnWorkerProcess(h);
    const service = `${APP}-${ENV}`;
    const selected = () =>
      (api.get('services', NS, service)?.spec?.selector as Record<string, string> | undefined)?.[
        'qubot.dev/color'
      ];
    expect(selected()).toBe('green');
    const d = await h.deploy(ENV, {
      version: '1.2.0',
      strategy: 'blue-green',
      options: { ...FAST, autoSwitch: true },
    });
    // The switch is the cluster's: kill the worker the moment the selector names blue.
    const deadline = Date.now() + 90_000;
    while (Date.now() < deadline && selected() !== 'blue') await new Promise((r) => setImmediate(r));
    expect(selected()).toBe('blue');
    worker?.kill('SIGKILL');
    await new Promise((r) => worker?.once('exit', r));
    const row = await h.db.prisma.environment.findFirstOrThrow({ where: { name: ENV } });
    // Not recorded yet: the database still says green carries the traffic.
    expect(row.activeColor).toBe('green');

    resumer = await startWorker(h);
    const done = await h.until(d.id, FINAL, 120_000);
    expect(done.status, JSON.stringify(done.steps)).toBe('succeeded');
    const env = await h.environment(ENV);
    expect(env.activeColor).toBe('blue');
    expect(env.live.version).toBe('1.2.0');
    expect(selected()).toBe('blue');
    // What the environment reports is what its address serves.
    const versions = new Set<string>();
    for (let i = 0; i < 20; i++) {
      const res = await fetch(env.address);
      expect(res.status).toBe(200);
      versions.add(((await res.json()) as { version: string }).version);
    }
    expect([...versions]).toEqual(['1.2.0']);
    const blue = api.list('pods', NS, 'qubot.dev/color=blue').filter((p) => !p.metadata.deletionTimestamp);
    const rows = await h.db.prisma.instance.findMany({
      where: { environment: { name: ENV }, pool: 'blue', status: 'running' },
    });
    expect(blue).toHaveLength(4);
    expect(blue.map((p) => p.metadata.labels?.['qubot.dev/instance']).sort()).toEqual(
      rows.map((r) => r.id).sort(),
    );
  }, 240_000);
});
