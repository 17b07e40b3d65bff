// The strategy scenarios of strategies.test.ts, through the control plane, on an environment whose
// runtime target is a Kubernetes namespace of an emulated API server (no real cluster can run on
// these machines): instances are pods of one Deployment per colour — real Qubot-One processes on
// their own addresses, Ready by a real probe — started, counted and stopped by the Kubernetes
// driver, under load through the environment's address.
import type { EmulatedApiServer } from '@qubot/runtime/test-apiserver';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLoad, versionRuns } from '../../../../test/load.ts';
import { APP, FAST, type Harness, pointAtEmulatedCluster, startHarness } from './test-helpers.ts';

const FINAL = ['succeeded', 'failed', 'rolled_back', 'aborted'];
const ENV = 'development';
const NS = 'qubot-apps';

describe('[ENGINE] strategies on the Kubernetes runtime (emulated API server)', () => {
  let h: Harness;
  let api: EmulatedApiServer;
  let cluster: Awaited<ReturnType<typeof pointAtEmulatedCluster>>;

  /** The colour Deployments' pods as the cluster has them, by release. */
  const podsByRelease = (color: string) => {
    const out: Record<string, number> = {};
    for (const p of api.list('pods', NS, `qubot.dev/color=${color}`)) {
      if (p.metadata.deletionTimestamp) continue;
      const v = p.metadata.labels?.['qubot.dev/release'] ?? '?';
      out[v] = (out[v] ?? 0) + 1;
    }
    return out;
  };

  /** The colour the stable Service selects, and the preview Service's. */
  const selectors = () =>
    ['', '-preview'].map(
      (suffix) =>
        (
          api.get('services', NS, `${APP}-${ENV}${suffix}`)?.spec?.selector as
            | Record<string, string>
            | undefined
        )?.['qubot.dev/color'],
    );

  beforeAll(async () => {
    h = await startHarness();
    cluster = await pointAtEmulatedCluster(h, ENV, NS);
    api = cluster.api;
    const d = await h.deploy(ENV, {
      version: '1.0.0',
      strategy: 'blue-green',
      options: { ...FAST, autoSwitch: true },
    });
    expect((await h.until(d.id, FINAL)).status).toBe('succeeded');
  }, 120_000);

  afterAll(async () => {
    await h?.close();
    await cluster?.close();
  }, 60_000);

  it('the first deployment runs as pods of the blue Deployment; the rows carry the pods’ addresses and ids', async () => {
    const env = await h.environment(ENV);
    expect(env.runtime.target).toBe('kubernetes');
    expect(env.live.version).toBe('1.0.0');
    // The cluster is the switch: the address is the stable Service's, no router process of ours.
    expect(env.address).toBe(api.addressOf('services', NS, `${APP}-${ENV}`));
    const envRow = await h.db.prisma.environment.findFirstOrThrow({ where: { name: ENV } });
    expect(envRow.routerPid).toBe(0);
    // A Node router or HAProxy cannot be chosen for it.
    const setting = await h.app.inject({
      method: 'PATCH',
      url: `/api/v1/apps/${APP}/environments/${ENV}/settings`,
      headers: await h.as('admin'),
      payload: { trafficProvider: 'haproxy' },
    });
    expect(setting.statusCode, setting.body).toBe(400);
    expect(setting.json().error.details.field).toBe('body.trafficProvider');
    const rows = await h.db.prisma.instance.findMany({
      where: { environment: { name: ENV }, status: 'running' },
    });
    expect(rows).toHaveLength(2);
    const pods = api.list('pods', NS, 'qubot.dev/color=blue');
    expect(pods.map((p) => p.metadata.labels?.['qubot.dev/instance']).sort()).toEqual(
      rows.map((r) => r.id).sort(),
    );
    for (const r of rows) {
      const pod = pods.find((p) => p.metadata.labels?.['qubot.dev/instance'] === r.id);
      expect(r.host).toBe(pod?.status?.podIP);
    }
    expect(api.get('deployments', NS, `${APP}-${ENV}-blue`)?.spec?.replicas).toBe(2);
    // The cluster's own Services follow the routing table: stable on blue, preview on green.
    expect(selectors()).toEqual(['blue', 'green']);
    // The table in force is kept on the stable Service: the running pods, all on blue.
    const kept = JSON.parse(
      (api.get('services', NS, `${APP}-${ENV}`)?.metadata.annotations?.['qubot.dev/routing'] as string) ??
        '{}',
    ) as { pools: { name: string; weight: number; targets: string[] }[] };
    expect(kept.pools.map((p) => [p.name, p.weight])).toEqual([['blue', 100]]);
    expect(kept.pools[0]?.targets.map((t) => t.split(':')[0]).sort()).toEqual(rows.map((r) => r.host).sort());

    // Logs are the pod's log, through the API; following streams it live from the cluster.
    const id = rows[0]?.id as string;
    const log = await h.app.inject({
      method: 'GET',
      url: `/api/v1/apps/${APP}/environments/${ENV}/instances/${id}/logs?lines=20`,
      headers: await h.as('deployer'),
    });
    expect(log.statusCode, log.body).toBe(200);
    expect(log.json().lines.join('\n')).toContain('listening');
    const follow = h.app.orchestrator.driver.followLogs?.bind(h.app.orchestrator.driver);
    expect(follow).toBeDefined();
    const ac = new AbortController();
    const lines: string[] = [];
    await follow?.({ id }, (l) => lines.push(l), ac.signal);
    // The emulated kubelet's OOM killer: the container restarts and logs `listening` again.
    const pod = pods.find((p) => p.metadata.labels?.['qubot.dev/instance'] === id)?.metadata.name as string;
    api.oomKill(NS, pod);
    await expect.poll(() => lines.some((l) => l.includes('listening')), { timeout: 20_000 }).toBe(true);
    ac.abort();
    await expect
      .poll(async () => (await h.app.orchestrator.driver.status({ id })).restarts, { timeout: 20_000 })
      .toBe(1);
    // A second OOM kill: both are counted (the pod itself keeps only the last termination).
    await expect.poll(() => api.containerPid(NS, pod) !== null, { timeout: 20_000 }).toBe(true);
    api.oomKill(NS, pod);
    await expect
      .poll(async () => (await h.app.orchestrator.driver.status({ id })).restarts, { timeout: 20_000 })
      .toBe(2);
    const st = await h.app.orchestrator.driver.status({ id });
    expect(st).toMatchObject({ lastExitReason: 'oom', restarts: 2, oomKills: 2 });
    await h.app.orchestrator.driver.waitHealthy([{ id, host: '', port: 0, healthPath: '/healthz' }], 20_000);
  }, 60_000);

  it('blue-green: waits for the switch, then switches with 0 failed requests; the green Deployment runs the new release', async () => {
    const env = await h.environment(ENV);
    const load = startLoad(env.address);
    const d = await h.deploy(ENV, {
      version: '1.1.0',
      strategy: 'blue-green',
      options: { ...FAST, autoSwitch: false },
      reason: 'release 1.1.0',
    });
    const waiting = await h.until(d.id, ['paused', ...FINAL]);
    expect(waiting.waitingFor).toBe('switch');
    expect(podsByRelease('green')).toEqual({ '1.1.0': 2 });
    expect(Object.keys(load.snapshot().versions)).toEqual(['1.0.0']);
    const sw = await h.post(`/apps/${APP}/environments/${ENV}/traffic`, {
      activeColor: 'green',
      reason: 'go',
    });
    expect(sw.statusCode, sw.body).toBe(202);
    expect((await h.until(d.id, FINAL)).status).toBe('succeeded');
    const after = load.mark();
    await expect.poll(() => load.since(after).requests, { timeout: 5_000 }).toBeGreaterThan(50);
    expect(Object.keys(load.since(after).versions)).toEqual(['1.1.0']);
    const r = await load.stop();
    expect(r.failed, r.errors.join(', ')).toBe(0);
    for (const runs of versionRuns(r.samples)) expect(runs).toEqual(['1.0.0', '1.1.0']);
    expect(selectors()).toEqual(['green', 'blue']);
    // Blue is kept warm for the rollback window.
    expect(podsByRelease('blue')).toEqual({ '1.0.0': 2 });
  }, 90_000);

  it('rollback: back to the warm blue pods at once, nothing started, 0 failed requests', async () => {
    const env = await h.environment(ENV);
    const before = await h.db.prisma.instance.count();
    const load = startLoad(env.address);
    await expect.poll(() => load.snapshot().requests).toBeGreaterThan(20);
    const res = await h.post(`/apps/${APP}/environments/${ENV}/rollback`, { reason: 'bad release' });
    expect(res.statusCode, res.body).toBe(202);
    expect((await h.until(res.json().id, FINAL)).status).toBe('succeeded');
    const after = load.mark();
    await expect.poll(() => load.since(after).requests, { timeout: 5_000 }).toBeGreaterThan(50);
    expect(Object.keys(load.since(after).versions)).toEqual(['1.0.0']);
    const r = await load.stop();
    expect(r.failed, r.errors.join(', ')).toBe(0);
    expect(await h.db.prisma.instance.count()).toBe(before);
    expect(selectors()).toEqual(['blue', 'green']);
  }, 60_000);

  it('rolling, then canary: new pods replace the old with 0 failed requests; a canary analysis without Prometheus is refused; the replica-ratio canary serves its pods’ share through the Service and is aborted back', async () => {
    const env = await h.environment(ENV);
    const load = startLoad(env.address);
    const rolling = await h.deploy(ENV, {
      version: '1.2.0',
      strategy: 'rolling',
      options: { ...FAST, maxSurge: 1, maxUnavailable: 0 },
    });
    const done = await h.until(rolling.id, FINAL, 90_000);
    expect(done.status, JSON.stringify(done.steps)).toBe('succeeded');
    const after = load.mark();
    await expect.poll(() => load.since(after).requests, { timeout: 5_000 }).toBeGreaterThan(50);
    expect(Object.keys(load.since(after).versions)).toEqual(['1.2.0']);
    const running = await h.db.prisma.instance.findMany({
      where: { status: 'running', environment: { name: ENV } },
    });
    for (const i of running) expect(api.list('pods', NS, `qubot.dev/instance=${i.id}`)).toHaveLength(1);

    // No router of ours counts a cluster's traffic: a canary analysis needs Prometheus.
    const refused = await h.post(`/apps/${APP}/environments/${ENV}/deployments`, {
      version: '1.3.0-faulty',
      strategy: 'canary',
      options: { ...FAST, steps: [50], analysis: { minRequests: 20, maxErrorRate: 0.05 } },
    });
    expect(refused.statusCode, refused.body).toBe(400);
    expect(refused.json().error.details.field).toBe('body.options.analysis');

    // Replica-ratio canary: both colours behind the stable Service, held at 10 % requested.
    const canary = await h.deploy(ENV, {
      version: '1.3.0-faulty',
      strategy: 'canary',
      options: { ...FAST, steps: [10], stepDurationSeconds: 'manual', analysis: { enabled: false } },
    });
    const held = await h.until(canary.id, ['paused', ...FINAL], 90_000);
    expect(held.waitingFor).toBe('advance');
    const split = load.mark();
    await expect
      .poll(() => Object.keys(load.since(split).versions).sort(), { timeout: 10_000 })
      .toEqual(['1.2.0', '1.3.0-faulty']);
    // 10 % of 2 replicas rounds to 0: 1 canary pod (at least 1) and 1 old one = 50 % served, recorded and returned.
    const during = await h.environment(ENV);
    const greenish = during.traffic.find((t: { version: string | null }) => t.version === '1.3.0-faulty');
    const pods = api
      .list('pods', NS, 'qubot.dev/release=1.3.0-faulty')
      .filter((p) => !p.metadata.deletionTimestamp);
    const all = api
      .list('pods', NS, `qubot.dev/environment=${ENV}`)
      .filter((p) => !p.metadata.deletionTimestamp);
    expect(greenish).toMatchObject({
      weight: 10,
      served: {
        pods: pods.length,
        ofPods: all.length,
        percent: Math.round((pods.length / all.length) * 1000) / 10,
      },
    });
    expect(greenish.served).toEqual({ pods: 1, ofPods: 2, percent: 50 });
    // Real traffic through the Service splits as the pods do.
    let canaryHits = 0;
    const N = 90;
    for (let i = 0; i < N; i++) {
      const res = await fetch(env.address);
      await res.arrayBuffer();
      if (res.headers.get('x-qubot-version') === '1.3.0-faulty') canaryHits++;
    }
    console.log('replica-ratio split through the Service', {
      requested: greenish.weight,
      served: greenish.served,
      measuredPercent: (100 * canaryHits) / N,
    });
    expect(Math.abs((100 * canaryHits) / N - greenish.served.percent)).toBeLessThan(15);
    const abort = await h.post(`/deployments/${canary.id}/abort`, { reason: 'faulty' });
    expect(abort.statusCode, abort.body).toBeLessThan(300);
    const c = await h.until(canary.id, FINAL, 90_000);
    expect(['aborted', 'rolled_back']).toContain(c.status);
    const back = load.mark();
    await expect.poll(() => load.since(back).requests, { timeout: 5_000 }).toBeGreaterThan(50);
    expect(Object.keys(load.since(back).versions)).toEqual(['1.2.0']);
    const r = await load.stop();
    // The faulty release answers 5xx itself while it has traffic; the rollouts drop nothing else.
    expect(r.errors.filter((e) => !/\b5\d\d\b/.test(e))).toEqual([]);
    expect((await h.environment(ENV)).live.version).toBe('1.2.0');
  }, 180_000);

  it('race: two conflicting traffic switches at once — one colour wins, and the Service serves what the environment reports', async () => {
    const env = await h.environment(ENV);
    const d = await h.deploy(ENV, {
      version: '1.1.0',
      strategy: 'blue-green',
      options: { ...FAST, autoSwitch: true },
    });
    expect((await h.until(d.id, FINAL, 90_000)).status).toBe('succeeded');
    const [a, b] = await Promise.all(
      (['blue', 'green'] as const).map((activeColor) =>
        h.post(`/apps/${APP}/environments/${ENV}/traffic`, { activeColor, reason: 'race' }),
      ),
    );
    expect([a?.statusCode, b?.statusCode].some((c) => c === 202 || c === 200)).toBe(true);
    // Whatever order they ran in, once settled the report, the Service and the address agree.
    await expect
      .poll(async () => (await h.environment(ENV)).activeDeployment, { timeout: 30_000 })
      .toBeNull();
    const after = await h.environment(ENV);
    expect(selectors()[0]).toBe(after.activeColor);
    const live = after.traffic.find((t: { weight: number }) => t.weight === 100)?.version;
    const seen = new Set<string>();
    for (let i = 0; i < 20; i++) {
      const res = await fetch(env.address);
      seen.add(((await res.json()) as { version: string }).version);
    }
    expect([...seen]).toEqual([live]);
  }, 120_000);

  it('canary in Gateway API mode (emulated API server with HTTPRoutes): the backendRefs weights split real traffic exactly as requested, then the Service switches', async () => {
    const NS2 = 'qubot-gateway';
    const gw = await pointAtEmulatedCluster(h, 'staging', NS2, { gateway: 'edge' });
    try {
      const first = await h.deploy('staging', {
        version: '1.0.0',
        strategy: 'blue-green',
        options: { ...FAST, autoSwitch: true },
      });
      expect((await h.until(first.id, FINAL, 90_000)).status).toBe('succeeded');
      expect((await h.environment('staging')).runtime.kubernetes.canaryMode).toBe('gateway-api');
      const canary = await h.deploy('staging', {
        version: '1.1.0',
        strategy: 'canary',
        options: { ...FAST, steps: [25], stepDurationSeconds: 'manual', analysis: { enabled: false } },
      });
      const held = await h.until(canary.id, ['paused', ...FINAL], 90_000);
      expect(held.waitingFor).toBe('advance');
      const route = gw.api.get('httproutes', NS2, `${APP}-staging`);
      if (!route) throw new Error('no HTTPRoute');
      const refs = (route.spec as { rules: { backendRefs: { name: string; weight: number }[] }[] }).rules[0]
        ?.backendRefs;
      expect(refs?.map((r) => r.weight).sort((a, b) => a - b)).toEqual([25, 75]);
      // The Gateway reported the generation it programmed before the step was recorded.
      expect(
        (route.status as { parents: { conditions: { observedGeneration: number }[] }[] }).parents[0]
          ?.conditions[0]?.observedGeneration,
      ).toBe(route.metadata.generation);
      // The weights are exact: nothing to round to whole pods, no served share recorded.
      const during = await h.environment('staging');
      expect(during.traffic.every((t: { served?: unknown }) => t.served === undefined)).toBe(true);
      const gatewayAddress = gw.api.addressOf('httproutes', NS2, `${APP}-staging`) as string;
      let canaryHits = 0;
      const N = 400;
      for (let i = 0; i < N; i++) {
        const res = await fetch(gatewayAddress);
        await res.arrayBuffer();
        expect(res.status).toBe(200);
        if (res.headers.get('x-qubot-version') === '1.1.0') canaryHits++;
      }
      console.log('gateway-api split through the HTTPRoute', {
        requested: 25,
        measuredPercent: (100 * canaryHits) / N,
      });
      expect(Math.abs((100 * canaryHits) / N - 25)).toBeLessThan(10);
      const adv = await h.post(`/deployments/${canary.id}/advance`, {});
      expect(adv.statusCode, adv.body).toBeLessThan(300);
      expect((await h.until(canary.id, FINAL, 90_000)).status).toBe('succeeded');
      const env = await h.environment('staging');
      const stable = gw.api.get('services', NS2, `${APP}-staging`)?.spec?.selector as Record<string, string>;
      expect(stable['qubot.dev/color']).toBe(env.activeColor);
      const res = await fetch(env.address);
      expect(res.headers.get('x-qubot-version')).toBe('1.1.0');
    } finally {
      await gw.close();
    }
  }, 240_000);
});
