// Hosts under load (docs/hosts.md): three Linux network namespaces act as hosts, each running
// `qubot agent`; the control plane (`main.ts --demo`, embedded PostgreSQL) listens on their bridge
// and runs `development` with `placement: hosts`, 3 replicas (one per host, capacity 2 each). For
// each traffic provider (the Node router, then HAProxy) a steady load runs against the
// environment's address during: a blue-green deployment, a rolling one, a drain of one host (its
// instance moves; the host is uncordoned after), and a SIGKILL + restart of the control plane with
// the agents connected. Counts requests and failures per window. Root only (`ip netns`); the load
// goes only to the environment it set up; everything it created is removed at the end.
//
//   node --import tsx bench/hosts.ts [--rate 200] [--concurrency 16] [--providers node,haproxy]
//
// Takes about 2–4 minutes on the 2-core machine.
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { removeEmbeddedData } from '@qubot/db';
import { createFleet, type Fleet, netnsUnavailable } from '../test/netns.ts';
import { apiSession, ROOT, startControlPlane } from './control-plane.ts';
import { runLoad } from './load.ts';

const { values } = parseArgs({
  options: {
    rate: { type: 'string', default: '200' },
    concurrency: { type: 'string', default: '16' },
    providers: { type: 'string', default: 'node,haproxy' },
  },
});
const rate = Number(values.rate);
const concurrency = Number(values.concurrency);
const providers = (values.providers ?? '').split(',').filter(Boolean);
for (const p of providers) if (p !== 'node' && p !== 'haproxy') throw new Error('--providers: node,haproxy');
if (!(rate > 0 && concurrency > 0)) throw new Error('--rate and --concurrency: numbers > 0');

const APP = 'qubot-one';
const ENV = 'development';
const FINAL = ['succeeded', 'failed', 'rolled_back', 'aborted'];
const VERSIONS = ['1.0.0', '1.1.0', '1.2.0'];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const why = netnsUnavailable();
if (why) {
  console.log(`bench/hosts.ts needs network namespaces: ${why}`);
  process.exit(2);
}

interface Row {
  provider: string;
  window: string;
  requests: number;
  failed: number;
  rps: number;
  seconds: number;
  note: string;
}
const rows: Row[] = [];

const fleet: Fleet = createFleet(3, { prefix: 'qfb', net: 81 });
const dataDir = mkdtempSync(join(tmpdir(), 'qubot-bench-hosts-'));
const logFile = join(dataDir, 'control-plane.log');
const agents: ChildProcess[] = [];
let cp: ChildProcess | null = null;

async function until<T>(what: string, probe: () => Promise<T | null | undefined | false>, ms = 120_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe().catch(() => null);
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

try {
  const started = await startControlPlane({ dataDir, logFile, host: fleet.gateway, readyTimeoutMs: 180_000 });
  cp = started.child;
  const { base, port } = started;
  const api = apiSession(base);
  await api.login('admin', 'demo-admin');
  type HostView = { name: string; state: string; connected: boolean; lastSeenAt: string | null };
  const hosts = async () => (await api.call<{ items: HostView[] }>('GET', '/api/v1/hosts')).json.items;

  for (let i = 0; i < 3; i++) {
    const tok = await api.call<{ secret: string }>('POST', '/api/v1/hosts/enrolment-tokens', {
      name: `bench-${i}`,
    });
    const h = fleet.hosts[i] as Fleet['hosts'][number];
    const child = fleet.spawnIn(
      i,
      process.execPath,
      [
        join(ROOT, 'apps/cli/bin/qubot.mjs'),
        'agent',
        '--server',
        base,
        '--data-dir',
        join(dataDir, `agent-${i}`),
        '--address',
        h.address,
        '--name',
        `host-${i}`,
        '--capacity',
        '2',
        '--enrol',
        tok.json.secret,
      ],
      { cwd: ROOT, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root' } },
    );
    agents.push(child);
  }
  await until('3 ready hosts', async () => (await hosts()).filter((h) => h.state === 'ready').length === 3);

  const env = () => api.environment(APP, ENV);
  const settled = () =>
    until('no active deployment', async () => {
      const e = await env();
      return !e.activeDeployment && e.instances.every((i) => i.status === 'running');
    });
  /** A deployment, once the environment has none active (a replica change starts a scale). */
  const deploy = async (body: object) => {
    const deadline = Date.now() + 120_000;
    for (;;) {
      const res = await api.call<{ id: string }>(
        'POST',
        `/api/v1/apps/${APP}/environments/${ENV}/deployments`,
        {
          reason: 'bench',
          ...body,
        },
      );
      if (res.status === 202) return res.json.id;
      if (res.status !== 409 || Date.now() > deadline)
        throw new Error(`deployment refused: ${res.status} ${res.text}`);
      await sleep(500);
    }
  };
  const finished = (id: string) =>
    until(`deployment ${id}`, async () => {
      const d = await api.deployment(id);
      return FINAL.includes(d.status) ? d : null;
    });
  const notLive = async () => {
    const live = (await env()).live?.version;
    return VERSIONS.find((v) => v !== live) as string;
  };

  // The demo deploys its releases once it is up: wait until development has one live.
  await until('the demo live in development', async () => (await env()).live !== null);
  await settled();
  const set = await api.call('PATCH', `/api/v1/apps/${APP}/environments/${ENV}/settings`, {
    placement: 'hosts',
    replicas: 3,
    reason: 'bench: run on the namespace hosts',
  });
  if (set.status !== 200) throw new Error(`settings: ${set.status} ${set.text}`);
  // Unmeasured: move the environment onto the hosts.
  await finished(
    await deploy({
      version: await notLive(),
      strategy: 'blue-green',
      options: { autoSwitch: true, rollbackWindowSeconds: 0 },
    }),
  );
  await settled();

  /** Load from 1 s before `action` until 1 s after it resolved. */
  async function window(provider: string, name: string, action: () => Promise<string>) {
    const ctl = new AbortController();
    const address = (await env()).address as string;
    const load = runLoad({ url: address, concurrency, rate, signal: ctl.signal });
    const t0 = Date.now();
    await sleep(1_000);
    const note = await action();
    await sleep(1_000);
    ctl.abort();
    const r = await load;
    rows.push({
      provider,
      window: name,
      requests: r.requests,
      failed: r.failed,
      rps: Math.round(r.rps),
      seconds: Math.round((Date.now() - t0) / 100) / 10,
      note,
    });
    console.log(`${provider} ${name}: ${r.requests} requests, ${r.failed} failed (${note})`);
    await settled();
  }

  for (const provider of providers) {
    if ((await env()).trafficProvider !== provider) {
      const res = await api.call('PATCH', `/api/v1/apps/${APP}/environments/${ENV}/settings`, {
        trafficProvider: provider,
        reason: `bench: through ${provider}`,
      });
      if (res.status !== 200) throw new Error(`provider: ${res.status} ${res.text}`);
      await until(`provider ${provider}`, async () => (await env()).trafficProvider === provider);
      await settled();
    }
    for (const strategy of ['blue-green', 'rolling'] as const) {
      await window(provider, strategy, async () => {
        const d = await finished(
          await deploy({
            version: await notLive(),
            strategy,
            options:
              strategy === 'blue-green'
                ? { autoSwitch: true, rollbackWindowSeconds: 0 }
                : { maxSurge: 1, maxUnavailable: 0 },
          }),
        );
        return `deployment ${d.status}`;
      });
    }
    await window(provider, 'drain one host', async () => {
      const list = await hosts();
      const target = list.find((h) => h.name === 'host-0') as HostView & { id?: string };
      const all = (await api.call<{ items: { id: string; name: string }[] }>('GET', '/api/v1/hosts')).json
        .items;
      const id = all.find((h) => h.name === target.name)?.id as string;
      const res = await api.call('POST', `/api/v1/hosts/${id}/drain`, { reason: 'bench' });
      if (res.status !== 200) throw new Error(`drain: ${res.status} ${res.text}`);
      const drained = await until('host-0 drained', async () =>
        (await hosts()).find((h) => h.name === 'host-0' && h.state === 'drained'),
      );
      await api.call('POST', `/api/v1/hosts/${id}/uncordon`, { reason: 'bench' });
      return `host-0 ${drained.state}`;
    });
    await window(provider, 'control plane SIGKILL + restart', async () => {
      const child = cp as ChildProcess;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await exited;
      const killedAt = Date.now();
      const again = await startControlPlane({
        dataDir,
        logFile,
        host: fleet.gateway,
        port,
        readyTimeoutMs: 180_000,
      });
      cp = again.child;
      const readyAt = Date.now();
      await api.login('admin', 'demo-admin');
      await until('agents back', async () =>
        (await hosts()).every((h) => h.connected && h.lastSeenAt && Date.parse(h.lastSeenAt) > killedAt),
      );
      const s = (ms: number) => (ms / 1000).toFixed(1);
      return `server ready again after ${s(readyAt - killedAt)} s, agents back ${s(Date.now() - readyAt)} s later`;
    });
  }

  const [l1, l5] = loadavg();
  console.log(
    `\nbench/hosts.ts — ${new Date().toISOString().slice(0, 10)}, ${rate} req/s offered, ${concurrency} workers, 3 namespace hosts, 3 replicas; load average ${l1?.toFixed(1)} / ${l5?.toFixed(1)}`,
  );
  console.log(
    `command: node --import tsx bench/hosts.ts --rate ${rate} --concurrency ${concurrency} --providers ${providers.join(',')}\n`,
  );
  console.log('| provider | window | requests | failed | req/s | seconds | note |');
  console.log('| --- | --- | ---: | ---: | ---: | ---: | --- |');
  for (const r of rows)
    console.log(
      `| ${r.provider} | ${r.window} | ${r.requests} | ${r.failed} | ${r.rps} | ${r.seconds} | ${r.note} |`,
    );
} finally {
  if (cp && cp.exitCode === null) {
    // Demo mode stops its instances and routers on SIGTERM.
    const exited = new Promise((r) => cp?.once('exit', r));
    cp.kill('SIGTERM');
    await Promise.race([exited, sleep(30_000)]);
    if (cp.exitCode === null) cp.kill('SIGKILL');
  }
  for (const a of agents) a.kill('SIGKILL');
  fleet.destroy();
  // What this run started and a failed stop may have left (routers, HAProxy run from its data
  // directory): found by that unique directory in their command line, ended by pid.
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(dataDir))
        process.kill(Number(pid), 'SIGKILL');
    } catch {
      // gone
    }
  }
  removeEmbeddedData(dataDir);
}
