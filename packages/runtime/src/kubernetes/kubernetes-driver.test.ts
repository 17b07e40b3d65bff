// The Kubernetes driver against an emulated API server (no real one can run on these machines):
// real HTTP, real server-side apply semantics, real watches, and pods that are real Qubot-One
// processes behind real Service/HTTPRoute proxies.
import { resolve } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, RUNTIME_SRC_DIR, tsxLoader } from '../proc.ts';
import type { InstanceSpec } from '../types.ts';
import { KubernetesDriver } from './kubernetes-driver.ts';
import { deploymentFor, LABELS, type PodTemplate } from './objects.ts';
import { EmulatedApiServer, qubotOneRunner } from './test-apiserver.ts';

const WORKSPACE = resolve(RUNTIME_SRC_DIR, '../../..');
const NS = 'qubot-test';
const TOKEN = 'emulated-token-0123456789';

function kubeConfig(server: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'emulated', server, skipTLSVerify: true }],
    users: [{ name: 'qubot', token: TOKEN }],
    contexts: [{ name: 'emulated', cluster: 'emulated', user: 'qubot', namespace: NS }],
    currentContext: 'emulated',
  });
  return kc;
}

async function cluster(gatewayApi: boolean) {
  const api = new EmulatedApiServer({
    runContainer: qubotOneRunner(WORKSPACE, tsxLoader()),
    gatewayApi,
    token: TOKEN,
    probePeriodMs: 100,
  });
  await api.start();
  const template: PodTemplate = {
    containerPort: await freePort(),
    servicePort: await freePort(),
    terminationGracePeriodSeconds: 5,
  };
  const driver = new KubernetesDriver({
    kubeConfig: kubeConfig(api.url),
    namespace: NS,
    podTemplate: () => template,
    ...(gatewayApi ? { gateway: { name: 'qubot-gateway' } } : {}),
    startTimeoutMs: 30_000,
  });
  return { api, driver, template };
}

const spec = (id: string, pool: string, version: string, artifact = 'qubot-one/healthy'): InstanceSpec => ({
  instanceId: id,
  environment: 'qubot-one/staging',
  version,
  artifact,
  pool,
  launcher: { command: 'unused' },
  healthPath: '/healthz',
});

async function versionsThrough(address: string, n: number) {
  const seen: Record<string, number> = {};
  let failed = 0;
  for (let i = 0; i < n; i++) {
    const res = await request(`${address}/`).catch(() => null);
    if (res?.statusCode !== 200) {
      failed++;
      await res?.body.dump();
      continue;
    }
    const v = res.headers['x-qubot-version'] as string | undefined;
    const body = (await res.body.json().catch(() => ({}))) as { version?: string };
    const version = v ?? body.version ?? '?';
    seen[version] = (seen[version] ?? 0) + 1;
  }
  return { seen, failed };
}

describe('KubernetesDriver against the emulated API server', () => {
  let c: Awaited<ReturnType<typeof cluster>>;

  beforeAll(async () => {
    c = await cluster(false);
  }, 30_000);

  afterAll(async () => {
    c?.driver.close();
    await c?.api.stop();
  }, 30_000);

  it('emulated API server: server-side apply is idempotent, conflicts name the other field manager, force takes over', async () => {
    const obj = deploymentFor(NS, {
      environment: 'qubot-one/ssa',
      pool: 'blue',
      version: '1.0.0',
      image: 'qubot-one/healthy',
      template: { containerPort: 1 },
      healthPath: '/healthz',
    });
    // Replicas stay 0 here: this test is about the object, not its pods.
    await c.driver.apply({ ...obj, spec: { ...obj.spec, replicas: 0 } });
    // The controller writes the status once (a resourceVersion of its own); then applying the same
    // intent again changes nothing, not even the resourceVersion.
    await c.driver.pods.start();
    for (
      let i = 0;
      i < 100 && c.api.get('deployments', NS, 'qubot-one-ssa-blue')?.status?.observedGeneration !== 1;
      i++
    ) {
      await new Promise((r) => setImmediate(r));
    }
    const first = await c.driver.apply({ ...obj, spec: { ...obj.spec, replicas: 0 } });
    const again = await c.driver.apply({ ...obj, spec: { ...obj.spec, replicas: 0 } });
    expect(again.metadata?.resourceVersion).toBe(first.metadata?.resourceVersion);
    expect(first.metadata?.managedFields?.map((f) => f.manager)).toEqual(['qubot-deploy']);

    const other = await fetch(
      `${c.api.url}/apis/apps/v1/namespaces/${NS}/deployments/qubot-one-ssa-blue?fieldManager=someone-else`,
      {
        method: 'PATCH',
        headers: { 'content-type': 'application/apply-patch+yaml', authorization: `Bearer ${TOKEN}` },
        body: JSON.stringify({
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          metadata: { name: 'qubot-one-ssa-blue' },
          spec: { strategy: { type: 'RollingUpdate' } },
        }),
      },
    );
    expect(other.status).toBe(409);
    expect(((await other.json()) as { message: string }).message).toMatch(
      /conflict with "qubot-deploy": \.spec\.strategy\.type/,
    );
    const forced = await fetch(
      `${c.api.url}/apis/apps/v1/namespaces/${NS}/deployments/qubot-one-ssa-blue?fieldManager=someone-else&force=true`,
      {
        method: 'PATCH',
        headers: { 'content-type': 'application/apply-patch+yaml', authorization: `Bearer ${TOKEN}` },
        body: JSON.stringify({
          metadata: { name: 'qubot-one-ssa-blue' },
          spec: { strategy: { type: 'RollingUpdate' } },
        }),
      },
    );
    expect(forced.status).toBe(200);
    expect(c.api.get('deployments', NS, 'qubot-one-ssa-blue')?.spec?.strategy).toEqual({
      type: 'RollingUpdate',
    });
    // Our next apply takes it back (forced: Qubot Deploy owns its objects).
    const back = await c.driver.apply({ ...obj, spec: { ...obj.spec, replicas: 0 } });
    expect((back.spec as { strategy: unknown }).strategy).toEqual({ type: 'Recreate' });
    // A field this manager applied before and leaves out now is removed (server-side apply).
    await c.driver.apply({
      ...obj,
      metadata: { ...obj.metadata, labels: { ...obj.metadata.labels, team: 'payments' } },
      spec: { ...obj.spec, replicas: 0 },
    });
    expect(c.api.get('deployments', NS, 'qubot-one-ssa-blue')?.metadata.labels?.team).toBe('payments');
    await c.driver.apply({ ...obj, spec: { ...obj.spec, replicas: 0 } });
    expect(c.api.get('deployments', NS, 'qubot-one-ssa-blue')?.metadata.labels?.team).toBeUndefined();
    expect(c.api.list('deployments', NS, `${LABELS.release}=1.0.0,${LABELS.color} in (blue)`)).toHaveLength(
      1,
    );
    expect(c.api.list('deployments', NS, `${LABELS.color}!=blue`)).toHaveLength(0);
  }, 30_000);

  it('starts instances as pods of the colour Deployment (Ready by a real probe), stops exactly the one asked, concurrent starts get distinct pods', async () => {
    const [a, b] = await Promise.all([
      c.driver.start(spec('staging-blue-a', 'blue', '1.0.0')),
      c.driver.start(spec('staging-blue-b', 'blue', '1.0.0')),
    ]);
    expect(a.target).not.toBe(b.target);
    const dep = c.api.get('deployments', NS, 'qubot-one-staging-blue');
    expect(dep?.spec?.replicas).toBe(2);
    expect(dep?.metadata.labels?.[LABELS.release]).toBe('1.0.0');
    const waited = await c.driver.waitHealthy(
      [a, b].map((r) => ({ id: r.id, host: r.host, port: r.port, healthPath: '/healthz' })),
      30_000,
    );
    expect(waited.ok).toBe(true);
    // The pod's address answers for real.
    const res = await request(`${a.url}/healthz`);
    expect(res.statusCode).toBe(200);
    await res.body.dump();
    expect(await c.driver.status({ id: a.id })).toMatchObject({ state: 'running', alive: true, restarts: 0 });

    await c.driver.stop({ id: a.id });
    expect(c.api.list('pods', NS, `${LABELS.instance}=staging-blue-a`)).toHaveLength(0);
    expect(c.api.list('pods', NS, `${LABELS.instance}=staging-blue-b`)).toHaveLength(1);
    expect(c.api.get('deployments', NS, 'qubot-one-staging-blue')?.spec?.replicas).toBe(1);
    expect((await c.driver.status({ id: a.id })).state).toBe('stopped');
    // Starting again under an id it already runs is a no-op (retry after a crash).
    const same = await c.driver.start(spec('staging-blue-b', 'blue', '1.0.0'));
    expect(same.target).toBe(b.target);
    expect(c.api.list('pods', NS, `${LABELS.color}=blue,${LABELS.environment}=staging`)).toHaveLength(1);
    // Another release cannot be started beside live instances of the colour (its template would roll them).
    await expect(c.driver.start(spec('staging-blue-c', 'blue', '2.0.0'))).rejects.toThrow(
      /still runs instances of 1\.0\.0/,
    );
  }, 90_000);

  it('a pod left unclaimed by a start that crashed is claimed by the next start: nothing doubled', async () => {
    // The crash: the Deployment was scaled, the control plane died before it labelled the pod.
    await c.driver.apply(
      deploymentFor(NS, {
        environment: 'qubot-one/staging',
        pool: 'green',
        version: '2.0.0',
        image: 'qubot-one/healthy',
        template: c.template,
        healthPath: '/healthz',
      }),
    );
    await c.driver.pods.waitFor(
      (items) => (items.some((p) => p.metadata?.labels?.[LABELS.color] === 'green') ? true : null),
      10_000,
      'orphan pod',
    );
    const orphan = c.api.list('pods', NS, `${LABELS.color}=green`)[0]?.metadata.name;
    const rec = await c.driver.start(spec('staging-green-x', 'green', '2.0.0'));
    const green = c.api
      .list('pods', NS, `${LABELS.color}=green`)
      .filter((p) => !p.metadata.deletionTimestamp);
    expect(green.map((p) => p.metadata.name)).toEqual([orphan]);
    expect(green[0]?.metadata.labels?.[LABELS.instance]).toBe(rec.id);
  }, 60_000);

  it('the pod watch resumes from its resourceVersion after a dropped connection, and lists again after 410 Gone', async () => {
    const pods = c.driver.pods;
    await pods.start();
    const lists = pods.stats.lists;
    const watches = pods.stats.watches;
    const rv = pods.resourceVersion;
    c.api.dropWatches();
    // A change while the connection is down: the resumed watch must deliver it.
    await c.driver.stop({ id: 'staging-green-x' });
    await pods.waitFor(
      (items) =>
        items.some((p) => p.metadata?.labels?.[LABELS.instance] === 'staging-green-x') ? null : true,
      20_000,
      'green pod gone',
    );
    expect(pods.stats.lists).toBe(lists);
    expect(pods.stats.watches).toBeGreaterThan(watches);
    expect(
      c.api.requests.some(
        (r) => r.includes('/pods?') && r.includes('watch=true') && r.includes(`resourceVersion=${rv}`),
      ),
    ).toBe(true);

    // Partitioned while pods change and the server compacts its history: the watch comes back with a
    // resourceVersion that is gone (410), so the cache lists again and still sees the change.
    const release = c.api.holdWatches();
    c.api.dropWatches();
    const started = c.driver.start(spec('staging-green-y', 'green', '2.0.0'));
    await new Promise((r) => setTimeout(r, 200));
    c.api.compact();
    release();
    await started;
    expect(pods.stats.gone).toBeGreaterThanOrEqual(1);
    expect(pods.stats.lists).toBeGreaterThan(lists);
    expect(c.driver.list().map((r) => r.id)).toContain('staging-green-y');
  }, 60_000);

  it('blue-green: the stable Service selector moves to green under load with 0 failed requests; preview serves the idle colour', async () => {
    const env = 'qubot-one/staging';
    await c.driver.setTraffic(env, { blue: 100, green: 0 });
    const stable = (await c.driver.serviceAddress(env)) as string;
    const preview = (await c.driver.serviceAddress(env, 'preview')) as string;
    await c.driver.waitHealthy(
      [{ id: 'staging-green-y', host: '', port: 0, healthPath: '/healthz' }],
      30_000,
    );
    expect((await versionsThrough(preview, 5)).seen).toEqual({ '2.0.0': 5 });
    let stop = false;
    const load = (async () => {
      const all = { seen: {} as Record<string, number>, failed: 0 };
      while (!stop) {
        const r = await versionsThrough(stable, 5);
        all.failed += r.failed;
        for (const [k, v] of Object.entries(r.seen)) all.seen[k] = (all.seen[k] ?? 0) + v;
      }
      return all;
    })();
    await new Promise((r) => setTimeout(r, 300));
    await c.driver.setTraffic(env, { blue: 0, green: 100 });
    expect(await c.driver.activeColor(env)).toBe('green');
    await new Promise((r) => setTimeout(r, 300));
    stop = true;
    const seen = await load;
    expect(seen.failed).toBe(0);
    expect(seen.seen['1.0.0']).toBeGreaterThan(0);
    expect(seen.seen['2.0.0']).toBeGreaterThan(0);
    expect((await versionsThrough(stable, 10)).seen).toEqual({ '2.0.0': 10 });
    expect((await versionsThrough(preview, 5)).seen).toEqual({ '1.0.0': 5 });
  }, 90_000);

  it('emulated API server: a routing change resolves only once the watch has the applied Service and its EndpointSlice serves only the intended colour', async () => {
    const env = 'qubot-one/staging';
    const readyIps = () =>
      c.api
        .list('endpointslices', NS, 'kubernetes.io/service-name=qubot-one-staging')
        .flatMap(
          (sl) =>
            (sl as unknown as { endpoints: { addresses: string[]; conditions: { ready: boolean } }[] })
              .endpoints,
        )
        .filter((e) => e.conditions.ready)
        .map((e) => e.addresses[0] as string);
    const ipsOf = (color: string) =>
      c.api
        .list('pods', NS, `qubot.dev/color=${color},qubot.dev/environment=staging`)
        .map((p) => (p.status as { podIP: string }).podIP);
    for (const color of ['blue', 'green', 'blue']) {
      const r = await c.driver.route(env, {
        blue: color === 'blue' ? 100 : 0,
        green: color === 'green' ? 100 : 0,
      });
      // At the moment it resolves — no waiting here — the cluster serves the intended colour only.
      expect(readyIps().length).toBeGreaterThan(0);
      expect(readyIps().every((ip) => ipsOf(color).includes(ip))).toBe(true);
      expect(r.resourceVersion).toBe(
        c.api.get('services', NS, 'qubot-one-staging')?.metadata.resourceVersion,
      );
      expect((await versionsThrough(r.address, 6)).seen).toEqual({
        [color === 'blue' ? '1.0.0' : '2.0.0']: 6,
      });
    }
    // Pods expected that the cluster does not serve: the change is not reported done.
    await expect(
      c.driver.route(
        env,
        { blue: 100, green: 0 },
        { targets: { blue: ['127.99.99.99:1'] }, timeoutMs: 1_000 },
      ),
    ).rejects.toThrow(/ready endpoints to be the pods of blue/);
  }, 60_000);

  it('canary without the Gateway API: replica ratio, both colours behind the stable Service', async () => {
    const env = 'qubot-one/staging';
    expect(await c.driver.detectCanaryMode()).toBe('replica-ratio');
    expect(await c.driver.setTraffic(env, { blue: 50, green: 50 })).toEqual({ mode: 'replica-ratio' });
    const { seen, failed } = await versionsThrough((await c.driver.serviceAddress(env)) as string, 40);
    expect(failed).toBe(0);
    expect(seen['1.0.0']).toBeGreaterThan(5);
    expect(seen['2.0.0']).toBeGreaterThan(5);
  }, 60_000);

  it('restarts, OOM kills (emulated OOM killer) and logs come from pod status and the pod log', async () => {
    const pod = c.api.list('pods', NS, `${LABELS.instance}=staging-blue-b`)[0]?.metadata.name as string;
    const before = await c.driver.logs({ id: 'staging-blue-b' }, 50);
    expect(before.join('\n')).toMatch(/listening/);
    const ac = new AbortController();
    let heard: () => void = () => {};
    const restartedLine = new Promise<void>((ok) => {
      heard = ok;
    });
    await c.driver.followLogs({ id: 'staging-blue-b' }, (l) => l.includes('listening') && heard(), ac.signal);
    c.api.oomKill(NS, pod);
    await c.driver.pods.waitFor(
      (items) => {
        const p = items.find((x) => x.metadata?.name === pod);
        const cs = p?.status?.containerStatuses?.[0];
        return cs?.state?.running && (cs.restartCount ?? 0) >= 1 ? true : null;
      },
      30_000,
      'container restarted',
    );
    const st = await c.driver.status({ id: 'staging-blue-b' });
    expect(st).toMatchObject({ restarts: 1, lastExitReason: 'oom', oomKills: 1, supervisorAlive: true });
    // The restarted container logs `listening` again: the follower hears it live.
    await restartedLine;
    ac.abort();
  }, 60_000);
});

describe('KubernetesDriver canary through the emulated Gateway API (HTTPRoute)', () => {
  let c: Awaited<ReturnType<typeof cluster>>;

  beforeAll(async () => {
    c = await cluster(true);
  }, 30_000);

  afterAll(async () => {
    c?.driver.close();
    await c?.api.stop();
  }, 30_000);

  it('emulated API server with Gateway API: weights go to the HTTPRoute backendRefs and split real traffic', async () => {
    const env = 'qubot-one/production';
    const recs = await Promise.all([
      c.driver.start({ ...spec('prod-blue-1', 'blue', '1.0.0'), environment: env }),
      c.driver.start({ ...spec('prod-green-1', 'green', '2.0.0'), environment: env }),
    ]);
    await c.driver.waitHealthy(
      recs.map((r) => ({ id: r.id, host: r.host, port: r.port, healthPath: '/healthz' })),
      30_000,
    );
    expect(await c.driver.detectCanaryMode()).toBe('gateway-api');
    expect(await c.driver.setTraffic(env, { blue: 75, green: 25 })).toEqual({ mode: 'gateway-api' });
    const route = c.api.get('httproutes', NS, 'qubot-one-production');
    expect((route?.spec?.rules as { backendRefs: unknown[] }[] | undefined)?.[0]?.backendRefs).toEqual([
      { name: 'qubot-one-production-blue-pool', port: c.template.servicePort, weight: 75 },
      { name: 'qubot-one-production-green-pool', port: c.template.servicePort, weight: 25 },
    ]);
    const address = c.api.addressOf('httproutes', NS, 'qubot-one-production') as string;
    const { seen, failed } = await versionsThrough(address, 200);
    expect(failed).toBe(0);
    expect(seen['2.0.0']).toBeGreaterThan(20);
    expect(seen['2.0.0']).toBeLessThan(90);
    await c.driver.setTraffic(env, { blue: 0, green: 100 });
    expect((await versionsThrough(address, 20)).seen).toEqual({ '2.0.0': 20 });
  }, 90_000);
});
