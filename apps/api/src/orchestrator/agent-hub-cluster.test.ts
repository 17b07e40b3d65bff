// Agents are served by every control-plane process (docs/hosts.md, "Several control-plane
// processes"): a real `qubot agent` on 127.0.0.1 connects to an API-only process (this test's), a
// separate worker process (`--role worker`, a child process on the same database) drives the
// deployment, and the instance starts on the host. Its log is then followed live through the agent
// — over HTTP from the API process, and from a third hub that holds no connection (relayed).
import type { ChildProcess } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOrchestrator, type Orchestrator } from './orchestrator.ts';
import {
  APP,
  FAST,
  type Harness,
  spawnWorkerProcess,
  startHarness,
  startLocalAgent,
} from './test-helpers.ts';

const ENV = 'development';
const FINAL = ['succeeded', 'failed', 'rolled_back', 'aborted'];

let h: Harness;
let server = '';
let worker: ChildProcess | null = null;
let agent: Awaited<ReturnType<typeof startLocalAgent>> | null = null;
let bystander: Orchestrator | null = null;

async function admin() {
  return h.as('admin');
}

beforeAll(async () => {
  // This process: the API role only (no worker, no lost-host check); heartbeats every 0.3 s.
  h = await startHarness({ worker: false, agents: { heartbeatMs: 300 } });
  server = await h.app.listen({ host: '127.0.0.1', port: 0 });
  worker = spawnWorkerProcess(h);
  agent = await startLocalAgent(h, server, 'solo');
}, 90_000);

afterAll(async () => {
  await bystander?.stop();
  if (worker && worker.exitCode === null) {
    const exited = new Promise((r) => worker?.once('exit', r));
    worker.kill('SIGTERM');
    const t = setTimeout(() => worker?.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(t);
  }
  await agent?.stop();
  await h?.close();
}, 60_000);

/** NDJSON batches of a followed instance log, read as they arrive. */
function readNdjson(body: ReadableStream<Uint8Array>) {
  const lines: string[] = [];
  let buffered = '';
  const decoder = new TextDecoder();
  const done = (async () => {
    try {
      for await (const part of body as unknown as AsyncIterable<Uint8Array>) {
        buffered += decoder.decode(part, { stream: true });
        const rows = buffered.split('\n');
        buffered = rows.pop() ?? '';
        for (const r of rows) lines.push(...(JSON.parse(r) as { lines: string[] }).lines);
      }
    } catch {
      // aborted by the test
    }
  })();
  return { lines, done };
}

describe('[hosts] the agent hub in every process', () => {
  it('an agent connected to the API process gets the instances a worker process starts', async () => {
    const set = await h.app.inject({
      method: 'PATCH',
      url: `/api/v1/apps/${APP}/environments/${ENV}/settings`,
      payload: { placement: 'hosts' },
      headers: await admin(),
    });
    expect(set.statusCode, set.body).toBe(200);
    const d = await h.deploy(ENV, { version: '1.0.0', strategy: 'blue-green', options: { ...FAST } });
    const end = await h.until(d.id, FINAL, 90_000);
    expect(end.status, `${JSON.stringify(end.steps)}\n${agent?.log.join('\n')}`).toBe('succeeded');
    // This process drives nothing: the deployment was driven by the worker process.
    expect(h.app.orchestrator.isWorker).toBe(false);
    const host = await h.db.prisma.host.findFirstOrThrow({ where: { name: 'solo' } });
    const rows = await h.db.prisma.instance.findMany({
      where: { environment: { name: ENV }, status: 'running' },
    });
    const env = await h.db.prisma.environment.findFirstOrThrow({ where: { name: ENV } });
    expect(rows.length).toBe(env.replicas);
    expect(rows.map((r) => r.hostId)).toEqual(rows.map(() => host.id));
    // It runs on the host: the agent's supervisor serves it, and this hub has its report.
    const row = rows[0] as (typeof rows)[number];
    const res = await fetch(`http://127.0.0.1:${row.port}/`);
    expect(res.headers.get('x-qubot-version')).toBe('1.0.0');
    expect(h.app.orchestrator.agentHub.reportOf(host.id, row.id)?.alive).toBe(true);
  }, 120_000);

  it('an instance log on a host is followed live over HTTP (NDJSON), as local ones are', async () => {
    const row = await h.db.prisma.instance.findFirstOrThrow({
      where: { environment: { name: ENV }, status: 'running' },
    });
    const url = `${server}/api/v1/apps/${APP}/environments/${ENV}/instances/${row.id}/logs`;
    // The same permission check as local instances: viewers may not read logs.
    const viewer = await h.app.inject({
      method: 'GET',
      url: `/api/v1/apps/${APP}/environments/${ENV}/instances/${row.id}/logs?follow=true`,
      headers: await h.as('viewer'),
    });
    expect(viewer.statusCode).toBe(403);
    const ac = new AbortController();
    const stream = await fetch(`${url}?follow=true&lines=5`, {
      headers: { cookie: (await h.as('deployer')).cookie },
      signal: ac.signal,
    });
    expect(stream.status).toBe(200);
    expect(stream.headers.get('content-type')).toContain('application/x-ndjson');
    const followed = readNdjson(stream.body as ReadableStream<Uint8Array>);
    // The initial tail comes from the agent (its log, read on the host).
    await expect.poll(() => followed.lines.join('\n'), { timeout: 10_000 }).toContain('listening');
    const logFile = join(agent?.dir ?? '', 'runtime', 'instances', row.id, 'instance.log');
    appendFileSync(logFile, 'written on the host after the viewer opened\n');
    await expect
      .poll(() => followed.lines, { timeout: 10_000 })
      .toContain('written on the host after the viewer opened');
    ac.abort();
    await followed.done;
  }, 60_000);

  it('a hub that holds no connection reaches the agent through the others: reads and follows its log', async () => {
    // A third control-plane process's hub (its own LISTEN connection and relay id), API role, with
    // the same secret key as the others (the relay's messages are sealed with it).
    bystander = createOrchestrator({
      db: h.db,
      dataDir: h.dataDir,
      worker: false,
      log: h.app.log,
      secrets: h.app.services.secrets,
    });
    await bystander.start();
    const host = await h.db.prisma.host.findFirstOrThrow({ where: { name: 'solo' } });
    const row = await h.db.prisma.instance.findFirstOrThrow({
      where: { environment: { name: ENV }, status: 'running' },
    });
    // It learns the host is connected from the holder's relayed reports.
    await expect.poll(() => bystander?.agentHub.isConnected(host.id), { timeout: 10_000 }).toBe(true);
    expect(bystander.agentHub.reportOf(host.id, row.id)?.alive).toBe(true);
    // A request answered by the agent, relayed both ways (a log longer than one NOTIFY part).
    const logFile = join(agent?.dir ?? '', 'runtime', 'instances', row.id, 'instance.log');
    const long = `long line ${'x'.repeat(9_000)}`;
    appendFileSync(logFile, `${long}\n`);
    const tail = await bystander.driver.logs({ id: row.id }, 5);
    expect(tail).toContain(long);
    // A live follow, relayed: lines written on the host arrive; after abort, no more.
    const got: string[] = [];
    const ac = new AbortController();
    await bystander.driver.followLogs?.({ id: row.id }, (l) => got.push(l), ac.signal);
    appendFileSync(logFile, 'relayed line one\n');
    await expect.poll(() => got, { timeout: 10_000 }).toContain('relayed line one');
    ac.abort();
  }, 60_000);
});
