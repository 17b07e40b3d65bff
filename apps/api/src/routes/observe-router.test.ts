// The dashboard's observation routes against a real environment: a router and instances started
// by a real deployment, router samples over the event stream, instance logs, ETA and log.
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Deployment, MetricsMessage, ServerMessage } from '@qubot/api-contract';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp } from '../../../../test/app.ts';
import { REPO_ROOT } from '../demo.ts';
import { connect, type Recorder } from '../events/ws-test-client.ts';

const APP = 'qubot-one';
const ENV = 'development';
const FINAL = ['succeeded', 'failed', 'rolled_back', 'aborted'];
const base = `/api/v1/apps/${APP}/environments/${ENV}`;

let t: Awaited<ReturnType<typeof buildTestApp>>;
let dataDir: string;
let origin: string;
let first: Deployment;
let address: string;
const sockets: Recorder[] = [];

async function call(
  role: 'viewer' | 'deployer' | 'release-manager',
  url: string,
  method = 'GET',
  payload?: object,
) {
  return t.app.inject({
    method: method as 'GET',
    url,
    headers: await t.as(role),
    ...(payload ? { payload } : {}),
  });
}
async function until(id: string, statuses: string[]): Promise<Deployment> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const d = (await call('viewer', `/api/v1/deployments/${id}`)).json() as Deployment;
    if (statuses.includes(d.status)) return d;
    if (Date.now() > deadline) throw new Error(`deployment ${id} is ${d.status}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
async function deploy(body: object): Promise<Deployment> {
  const res = await call('release-manager', `${base}/deployments`, 'POST', body);
  expect(res.statusCode, res.body).toBe(202);
  return res.json();
}
async function traffic(n: number) {
  for (let i = 0; i < n; i++) await (await fetch(address)).text();
}
async function socket(role: 'viewer' | 'deployer', topics: string[]) {
  const rec = await connect(`${origin.replace('http', 'ws')}/api/v1/events`, {
    cookie: (await t.as(role)).cookie,
  });
  sockets.push(rec);
  rec.send({ type: 'subscribe', topics });
  await rec.next((m) => m.type === 'subscribed');
  return rec;
}
const metricsOf = (m: ServerMessage) => m as unknown as MetricsMessage;
const isMetrics = (m: ServerMessage) => (m as { type: string }).type === 'metrics';

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'qubot-observe-'));
  t = await buildTestApp({
    app: {
      orchestrator: {
        worker: true,
        dataDir,
        workspaceDir: REPO_ROOT,
        sweepIntervalMs: 1_000,
        healthIntervalMs: 150,
        stopTimeoutMs: 3_000,
      },
      observe: { sampleIntervalMs: 250 },
    },
  });
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  origin = `http://127.0.0.1:${(t.app.server.address() as { port: number }).port}`;
  first = await deploy({
    version: '1.0.0',
    strategy: 'blue-green',
    options: { healthTimeoutSeconds: 20, autoSwitch: true },
  });
  expect((await until(first.id, FINAL)).status).toBe('succeeded');
  address = (await call('viewer', base)).json().address;
}, 90_000);

afterAll(async () => {
  for (const s of sockets) s.ws.terminate();
  await t?.app.orchestrator.stop();
  await t?.app.orchestrator.runtime.stopEverything();
  await t?.close();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

describe('[API] environment metrics', () => {
  it('streams router samples per pool to the environment topic only, and serves the recent history', async () => {
    const watcher = await socket('viewer', [`environment:${APP}/${ENV}`]);
    const overview = await socket('viewer', [`application:${APP}`]);
    await traffic(30);
    // Samples are per interval: wait for the ones that add up to our 30 requests.
    const counted = () =>
      watcher.messages
        .filter(isMetrics)
        .flatMap((m) => metricsOf(m).sample.pools)
        .filter((p) => p.pool === 'blue')
        .reduce((n, p) => n + p.requests, 0);
    await expect.poll(counted, { timeout: 10_000 }).toBeGreaterThanOrEqual(30);
    const msg = metricsOf(watcher.messages.find(isMetrics) as ServerMessage);
    expect(msg).toMatchObject({
      environment: `${APP}/${ENV}`,
      deployment: null,
      sample: { intervalMs: 250 },
    });
    expect(msg).not.toHaveProperty('seq');
    expect(msg.sample.pools[0]).toMatchObject({ pool: 'blue', version: '1.0.0', errors: 0 });
    // The overview (application topic) is not sent samples every few seconds.
    expect(overview.messages.filter(isMetrics)).toEqual([]);

    const res = await call('viewer', `${base}/metrics?windowSeconds=60`);
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json();
    expect(body.environment).toBe(`${APP}/${ENV}`);
    expect(body.intervalMs).toBe(250);
    const fromHistory = body.samples
      .flatMap((s: MetricsMessage['sample']) => s.pools)
      .reduce((n: number, p: { requests: number }) => n + p.requests, 0);
    expect(fromHistory).toBeGreaterThanOrEqual(30);
    expect(Date.parse(body.samples[0].at)).toBeLessThan(Date.parse(body.samples.at(-1).at));

    expect((await call('viewer', `${base}/metrics?windowSeconds=5`)).statusCode).toBe(400);
    expect((await call('viewer', `/api/v1/apps/${APP}/environments/nope/metrics`)).statusCode).toBe(404);
  }, 30_000);
});

describe('[API] instance logs', () => {
  it('deployers read the last lines and follow new ones; viewers may not', async () => {
    const env = (await call('viewer', base)).json();
    const instance = env.instances[0];
    const url = `${base}/instances/${instance.id}/logs`;
    expect((await call('viewer', url)).statusCode).toBe(403);
    const res = await call('deployer', `${url}?lines=5`);
    expect(res.statusCode, res.body).toBe(200);
    const log = res.json();
    expect(log).toMatchObject({ instanceId: instance.id, pool: 'blue', version: '1.0.0' });
    expect(log.lines.length).toBeGreaterThan(0);
    expect(log.lines.length).toBeLessThanOrEqual(5);
    expect(log.lines.join('\n')).toContain('listening');
    // The supervisor's own lines in it have the control plane's log shape (docs/monitoring.md "Logs").
    const all = (await call('deployer', `${url}?lines=200`)).json() as { lines: string[] };
    const notes = all.lines
      .filter((l) => l.includes('"component":"supervisor"'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(notes[0]).toMatchObject({
      level: 30,
      time: expect.any(Number),
      pid: expect.any(Number),
      hostname: expect.any(String),
      component: 'supervisor',
      instanceId: instance.id,
      msg: expect.stringMatching(/^started pid \d+/),
    });
    expect((await call('deployer', `${base}/instances/development-blue-00000000/logs`)).statusCode).toBe(404);
    expect((await call('deployer', `${url}?lines=0`)).statusCode).toBe(400);
    expect((await call('deployer', `${base}/instances/..%2F..%2Fetc/logs`)).statusCode).toBe(400);

    // Follow: the initial lines, then what the instance writes next, as NDJSON.
    const ac = new AbortController();
    const stream = await fetch(`${origin}${url}?follow=true&lines=2`, {
      headers: { cookie: (await t.as('deployer')).cookie },
      signal: ac.signal,
    });
    expect(stream.status).toBe(200);
    expect(stream.headers.get('content-type')).toContain('application/x-ndjson');
    const chunks: { lines: string[] }[] = [];
    let buffered = '';
    const decoder = new TextDecoder();
    const reading = (async () => {
      try {
        for await (const part of stream.body as unknown as AsyncIterable<Uint8Array>) {
          buffered += decoder.decode(part, { stream: true });
          const lines = buffered.split('\n');
          buffered = lines.pop() ?? '';
          for (const l of lines) chunks.push(JSON.parse(l));
        }
      } catch {
        // aborted below
      }
    })();
    await expect.poll(() => chunks.length, { timeout: 5_000 }).toBeGreaterThan(0);
    expect(chunks[0]?.lines.length).toBeLessThanOrEqual(2);
    const logFile = join(dataDir, 'runtime', 'instances', instance.id, 'instance.log');
    appendFileSync(logFile, 'a line written after the viewer opened\n');
    await expect
      .poll(() => chunks.flatMap((c) => c.lines), { timeout: 5_000 })
      .toContain('a line written after the viewer opened');
    ac.abort();
    await reading;
  }, 30_000);
});

describe('[API] deployment ETA, log and live traffic', () => {
  it('an active deployment gets an ETA from similar ones, its log, and its traffic counted live', async () => {
    const second = await deploy({
      version: '1.1.0',
      strategy: 'blue-green',
      options: { healthTimeoutSeconds: 20, autoSwitch: false },
      reason: 'observe test',
    });
    const waiting = await until(second.id, ['paused', ...FINAL]);
    expect(waiting.waitingFor).toBe('switch');

    // Only one earlier blue-green: no ETA yet.
    expect((await call('viewer', `/api/v1/deployments/${second.id}/eta`)).json()).toEqual({
      deploymentId: second.id,
      eta: null,
    });
    // Two more succeeded blue-green deployments to this environment, 10 s and 40 s long.
    const row = await t.db.prisma.deployment.findUniqueOrThrow({ where: { id: first.id } });
    const firstSeconds = ((row.finishedAt as Date).getTime() - (row.startedAt as Date).getTime()) / 1000;
    for (const seconds of [10, 40]) {
      await t.db.prisma.deployment.create({
        data: {
          applicationId: row.applicationId,
          environmentId: row.environmentId,
          releaseId: row.releaseId,
          strategy: row.strategy,
          status: 'succeeded',
          actor: 'history',
          startedAt: new Date(Date.now() - 3_600_000),
          finishedAt: new Date(Date.now() - 3_600_000 + seconds * 1000),
        },
      });
    }
    const eta = (await call('viewer', `/api/v1/deployments/${second.id}/eta`)).json().eta;
    const p90 = Math.max(40, firstSeconds);
    expect(eta.samples).toBe(3);
    expect(eta.p90Seconds).toBeCloseTo(p90, 0);
    const started = await t.db.prisma.deployment.findUniqueOrThrow({ where: { id: second.id } });
    expect(Date.parse(eta.expectedFinishAt)).toBeCloseTo(
      (started.startedAt as Date).getTime() + p90 * 1000,
      -2,
    );
    // A finished deployment has no ETA.
    expect((await call('viewer', `/api/v1/deployments/${first.id}/eta`)).json().eta).toBeNull();

    // Requests while it waits are counted into its traffic, live, on the deployment's topic.
    const watcher = await socket('viewer', [`deployment:${second.id}`]);
    await traffic(25);
    const live = await watcher.next(
      (m) => isMetrics(m) && (metricsOf(m).deployment?.traffic.requests ?? 0) >= 25,
      10_000,
    );
    expect(metricsOf(live).deployment).toMatchObject({ id: second.id, traffic: { failed: 0 } });

    const sw = await call('release-manager', `${base}/traffic`, 'POST', {
      activeColor: 'green',
      reason: 'go',
    });
    expect(sw.statusCode, sw.body).toBe(202);
    const done = await until(second.id, FINAL);
    expect(done.status).toBe('succeeded');
    expect(done.traffic.requests).toBeGreaterThanOrEqual(25);
    expect(done.traffic.failed).toBe(0);

    const log = await call('viewer', `/api/v1/deployments/${second.id}/events`);
    expect(log.statusCode, log.body).toBe(200);
    const messages = log.json().items.map((i: { message: string }) => i.message);
    expect(messages[0]).toBe(
      `Deployment of 1.1.0 to development (blue-green) requested by ${done.actor}: observe test`,
    );
    expect(messages).toContain('Paused: ready, waiting for the traffic switch');
    expect(messages.at(-1)).toMatch(/^Deployment succeeded — \d+ requests served, 0 failed$/);
    const seqs = log.json().items.map((i: { seq: number }) => i.seq);
    expect([...seqs].sort((a, b) => a - b)).toEqual(seqs);
    expect((await call('viewer', `/api/v1/deployments/${crypto.randomUUID()}/events`)).statusCode).toBe(404);
  }, 90_000);
});
