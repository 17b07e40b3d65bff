import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalDriver } from '../local-driver.ts';
import { freePort, isAlive, RUNTIME_SRC_DIR } from '../proc.ts';
import type { InstanceRecord } from '../types.ts';
import { RouterClient, RouterClientError } from './client.ts';
import type { PoolConfig } from './config.ts';
import { adoptRouter, type RouterProcess, startRouter, stopRouter } from './process.ts';

const WORKSPACE = resolve(RUNTIME_SRC_DIR, '../../..');
const LAUNCHER = {
  command:
    'node --import tsx apps/qubot-one/src/main.ts --artifact {artifact} --port {port} --version {version} --pool {pool} --instance-id {instanceId}',
};
const dataDir = mkdtempSync(join(tmpdir(), 'qubot-router-'));
const driver = new LocalDriver({ dataDir, workspaceDir: WORKSPACE, stopTimeoutMs: 5_000 });
const secret = randomBytes(24).toString('hex');
const stateFile = join(dataDir, 'router-state.json');
const logFile = join(dataDir, 'router.log');
// Client keep-alive like a browser; plenty of sockets so the load loop is not queued client-side.
const client = new Agent({ connections: 64 });

let router: RouterProcess;
let blue: InstanceRecord;
let blue2: InstanceRecord;
let green: InstanceRecord;
let faulty: InstanceRecord;

const pool = (name: string, version: string, weight: number, targets: InstanceRecord[]): PoolConfig => ({
  name,
  version,
  weight,
  targets: targets.map((t) => t.target),
});

async function get(path = '/') {
  const res = await request(`${router.address}${path}`, { dispatcher: client });
  const body = (await res.body.json()) as { version: string; instanceId: string };
  return { status: res.statusCode, pool: res.headers['x-qubot-pool'] as string, body };
}

/** `n` requests, `concurrency` at a time. */
async function burst(n: number, concurrency = 16) {
  const results: Awaited<ReturnType<typeof get>>[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) {
        next++;
        results.push(await get());
      }
    }),
  );
  return results;
}

beforeAll(async () => {
  const [port, controlPort] = [await freePort(), await freePort()];
  const common = { environment: 'test/router', launcher: LAUNCHER };
  [router, blue, blue2, green, faulty] = await Promise.all([
    startRouter({ port, controlPort, secret, stateFile, logFile }),
    driver.start({
      ...common,
      instanceId: 'blue-1',
      version: '1.2.0',
      artifact: 'qubot-one/healthy',
      pool: 'blue',
    }),
    driver.start({
      ...common,
      instanceId: 'blue-2',
      version: '1.2.0',
      artifact: 'qubot-one/healthy',
      pool: 'blue',
    }),
    driver.start({
      ...common,
      instanceId: 'green-1',
      version: '1.3.0',
      artifact: 'qubot-one/healthy',
      pool: 'green',
    }),
    driver.start({
      ...common,
      instanceId: 'canary-1',
      version: '1.3.0-faulty',
      artifact: 'qubot-one/faulty-5xx-30',
      pool: 'green',
    }),
  ]);
  const ready = await driver.waitHealthy([blue, blue2, green, faulty], 20_000);
  expect(ready.ok).toBe(true);
}, 30_000);

afterAll(async () => {
  await Promise.all([driver.stopAll('test/router'), router ? stopRouter(router.pid) : undefined]);
  await client.close();
  rmSync(dataDir, { recursive: true, force: true });
}, 30_000);

describe('traffic router', () => {
  it('logs in the control plane\'s line shape (docs/monitoring.md "Logs")', () => {
    const lines = readFileSync(logFile, 'utf8')
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.find((l) => l.msg === 'listening')).toMatchObject({
      level: 30,
      time: expect.any(Number),
      pid: router.pid,
      hostname: expect.any(String),
      component: 'router',
      port: router.port,
    });
  });

  it('protects the control API with the secret and binds it to loopback only', async () => {
    const url = `${router.controlUrl}/config`;
    expect((await request(url)).statusCode).toBe(401);
    expect(
      (await request(url, { headers: { authorization: 'Bearer wrong-secret-wrong-secret' } })).statusCode,
    ).toBe(401);
    expect((await request(url, { headers: { authorization: secret } })).statusCode).toBe(401);
    const wrong = new RouterClient({ controlUrl: router.controlUrl, secret: 'x'.repeat(32) });
    await expect(wrong.setConfig({ pools: [] })).rejects.toMatchObject({ status: 401 });
    expect((await router.client.getConfig()).pools).toEqual([]);

    // Listening sockets, from the kernel's table: the control port is on 127.0.0.1, not a wildcard.
    const hexPort = router.controlPort.toString(16).toUpperCase().padStart(4, '0');
    const listening = (file: string) =>
      readFileSync(file, 'utf8')
        .split('\n')
        .map((l) => l.trim().split(/\s+/))
        .filter((f) => f[3] === '0A' && f[1]?.endsWith(`:${hexPort}`))
        .map((f) => f[1]?.split(':')[0]);
    expect(listening('/proc/net/tcp')).toEqual(['0100007F']);
    expect(listening('/proc/net/tcp6')).toEqual([]);
  });

  it('validates configs and names the field at fault', async () => {
    const bad = [
      { pools: [{ name: 'Blue!', version: '1', weight: 1, targets: [blue.target] }] },
      { pools: [{ name: 'blue', version: '1', weight: -1, targets: [blue.target] }] },
      { pools: [{ name: 'blue', version: '1', weight: 1, targets: ['nope'] }] },
      { pools: [{ name: 'blue', version: '1', weight: 1, targets: [] }] },
      { pools: [{ name: 'blue', version: '1', weight: 1, targets: [blue.target], extra: true }] },
      { pools: [pool('blue', '1', 1, [blue]), pool('blue', '2', 1, [green])] },
    ];
    for (const body of bad) {
      const err = await router.client.setConfig(body as never).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(RouterClientError);
      expect((err as RouterClientError).status).toBe(400);
      expect((err as RouterClientError).details).toHaveProperty('field');
    }
    // No pool with weight: 503, never a hang.
    expect((await request(`${router.address}/`)).statusCode).toBe(503);
  });

  it('splits traffic by weight, round-robin within a pool', async () => {
    await router.client.setConfig({
      pools: [pool('blue', '1.2.0', 90, [blue, blue2]), pool('green', '1.3.0', 10, [green])],
    });
    const results = await burst(1000);
    const greens = results.filter((r) => r.pool === 'green');
    expect(results.every((r) => r.status === 200)).toBe(true);
    expect(greens.length).toBeGreaterThanOrEqual(70);
    expect(greens.length).toBeLessThanOrEqual(130);
    expect(greens.every((r) => r.body.version === '1.3.0')).toBe(true);
    const blueInstances = new Map<string, number>();
    for (const r of results.filter((x) => x.pool === 'blue')) {
      expect(r.body.version).toBe('1.2.0');
      blueInstances.set(r.body.instanceId, (blueInstances.get(r.body.instanceId) ?? 0) + 1);
    }
    expect(blueInstances.get('blue-1')).toBeGreaterThan(400);
    expect(blueInstances.get('blue-2')).toBeGreaterThan(400);
  });

  it('measures per-pool errors and latency (30% faulty artifact)', async () => {
    await router.client.setConfig({
      pools: [pool('blue', '1.2.0', 50, [blue]), pool('canary', '1.3.0-faulty', 50, [faulty])],
    });
    await router.client.resetStats();
    const results = await burst(600);
    const canary = await router.client.stats('canary', 60_000);
    const stable = await router.client.stats('blue', 60_000);
    expect(canary.requests).toBe(300);
    expect(stable.requests).toBe(300);
    expect(canary.errors).toBe(results.filter((r) => r.pool === 'canary' && r.status === 500).length);
    expect(canary.errorRate).toBeGreaterThan(0.2);
    expect(canary.errorRate).toBeLessThan(0.4);
    expect(stable.errors).toBe(0);
    expect(stable.errorRate).toBe(0);
    for (const s of [canary, stable]) {
      expect(s.p50).toBeGreaterThan(0);
      expect(s.p95).toBeGreaterThanOrEqual(s.p50 as number);
      expect(s.p99).toBeGreaterThanOrEqual(s.p95 as number);
      expect(s.totals.requests).toBe(300);
    }
    expect(canary.version).toBe('1.3.0-faulty');
    const metrics = await router.client.metrics();
    expect(metrics).toMatch(
      /qubot_router_errors_total\{pool="canary",version="1.3.0-faulty",kind="5xx"\} \d+/,
    );
    expect(metrics).toMatch(
      /qubot_router_request_duration_seconds_bucket\{le="[^"]+",pool="blue",version="1.2.0"\}/,
    );
    await router.client.resetStats('canary');
    expect((await router.client.stats('canary', 60_000)).requests).toBe(0);
    await expect(router.client.stats('nope')).rejects.toMatchObject({ status: 404 });
  });

  it('serves its process figures beside the traffic ones: event-loop delay, GC pauses, CPU', async () => {
    await router.client.setConfig({ pools: [pool('blue', '1.2.0', 100, [blue])] });
    await burst(200, 8);
    const metrics = await router.client.metrics();
    const lag = /^qubot_router_nodejs_eventloop_lag_p99_seconds (\S+)$/m.exec(metrics)?.[1];
    // prom-client samples every 10 ms and reports the interval between samples.
    expect(Number(lag)).toBeGreaterThanOrEqual(0.009);
    expect(metrics).toContain('# TYPE qubot_router_nodejs_gc_duration_seconds histogram');
    expect(metrics).toMatch(/^qubot_router_process_cpu_seconds_total \S+$/m);
    // The traffic series are still there, unchanged.
    expect(metrics).toMatch(/qubot_router_requests_total\{pool="blue",version="1.2.0",code="2xx"\} \d+/);
  });

  it('retries a request whose target refuses the connection on another target', async () => {
    const dead = await freePort();
    await router.client.setConfig({
      pools: [{ name: 'blue', version: '1.2.0', weight: 100, targets: [`127.0.0.1:${dead}`, blue.target] }],
    });
    await router.client.resetStats();
    const results = await burst(50, 4);
    expect(results.every((r) => r.status === 200)).toBe(true);
    const s = await router.client.stats('blue');
    expect(s.errors).toBe(0);
    expect(s.totals.retries).toBeGreaterThanOrEqual(1);
  });

  it('switches blue → green under load without a failed request, then drains and stops blue', async () => {
    await router.client.setConfig({ pools: [pool('blue', '1.2.0', 100, [blue, blue2])] });
    let stop = false;
    let switchedAt = Number.POSITIVE_INFINITY;
    const seen: { status: number; version: string; at: number }[] = [];
    const failures: unknown[] = [];
    const workers = Array.from({ length: 8 }, async () => {
      while (!stop && seen.length < 20_000) {
        try {
          const r = await get();
          seen.push({ status: r.status, version: r.body.version, at: performance.now() });
        } catch (err) {
          failures.push(err);
        }
      }
    });
    await expect.poll(() => seen.length).toBeGreaterThan(200);
    await router.client.setConfig({
      pools: [pool('blue', '1.2.0', 0, [blue, blue2]), pool('green', '1.3.0', 100, [green])],
    });
    switchedAt = performance.now();
    expect(await router.client.waitDrained([blue.target, blue2.target], 10_000)).toBe(true);
    await Promise.all([driver.stop(blue), driver.stop(blue2)]);
    const afterStop = seen.length;
    // Enough traffic after the stop, and after the switch settled, to prove nothing reaches blue.
    await expect.poll(() => seen.length).toBeGreaterThan(afterStop + 200);
    await expect.poll(() => seen.filter((r) => r.at > switchedAt + 50).length).toBeGreaterThan(200);
    stop = true;
    await Promise.all(workers);

    expect(failures).toEqual([]);
    expect(seen.filter((r) => r.status !== 200)).toEqual([]);
    expect(seen.some((r) => r.version === '1.2.0')).toBe(true);
    const late = seen.filter((r) => r.at > switchedAt + 50);
    expect(late.length).toBeGreaterThan(200);
    expect(late.every((r) => r.version === '1.3.0')).toBe(true);
    expect(isAlive(blue.supervisorPid)).toBe(false);
  });

  it('persists its config across a router restart, and can be adopted', async () => {
    const before = await router.client.getConfig();
    expect(await adoptRouter({ ...router, secret: 'not-the-secret-at-all' })).toBeNull();
    const adopted = await adoptRouter({
      pid: router.pid,
      port: router.port,
      controlPort: router.controlPort,
      secret,
    });
    expect(adopted?.pid).toBe(router.pid);

    await stopRouter(router.pid);
    expect(isAlive(router.pid)).toBe(false);
    router = await startRouter({
      port: router.port,
      controlPort: router.controlPort,
      secret,
      stateFile,
      logFile,
    });
    const after = await router.client.getConfig();
    expect(after.pools).toEqual(before.pools);
    expect(after.revision).toBe(before.revision);
    const r = await get();
    expect(r).toMatchObject({ status: 200, pool: 'green', body: { version: '1.3.0' } });
  });
});
