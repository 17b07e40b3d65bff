// Crash soak: the control plane is killed with SIGKILL at random moments while deployments of every
// strategy run under a steady load through the environment's address, then started again on the
// same data directory. The promise under test: users see no failed request at all, and once the
// resumed deployment has finished the environment runs exactly its replica count — no instance too
// many, none missing, and no process left running that the database does not know about.
//
//   node --import tsx bench/crash-soak.ts [--kills 30] [--rate 200] [--concurrency 16] [--seed 1]
//     [--max-delay-seconds 8]
//
// Each round: deploy the next version with the next strategy (blue-green, rolling, canary in turn),
// wait a random 0.2 s … max-delay s, SIGKILL the API (`apps/api/src/main.ts --demo`, its embedded
// PostgreSQL stays behind and is taken over by the next start), start it again, wait for the
// deployment to reach a final status and the environment to be idle, then check the replica count
// and the processes. The load runs from the first deployment to the end of the last round.
import type { ChildProcess } from 'node:child_process';
import { chmodSync, copyFileSync, mkdtempSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { removeEmbeddedData } from '@qubot/db';
import { freePort } from '@qubot/runtime';
import { apiSession, startControlPlane } from './control-plane.ts';
import { fmt, runLoad, type Sample } from './load.ts';

const { values } = parseArgs({
  options: {
    kills: { type: 'string', default: '30' },
    rate: { type: 'string', default: '200' },
    concurrency: { type: 'string', default: '16' },
    seed: { type: 'string', default: '1' },
    'max-delay-seconds': { type: 'string', default: '8' },
  },
});
const kills = Number(values.kills);
const rate = Number(values.rate);
const concurrency = Number(values.concurrency);
const maxDelayMs = Number(values['max-delay-seconds']) * 1000;
if (!Number.isInteger(kills) || kills < 1) throw new Error('--kills: a positive integer');

// A small deterministic generator: the same --seed gives the same kill moments.
let seed = Number(values.seed) >>> 0 || 1;
const random = () => {
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return (seed >>> 0) / 4294967296;
};
// A small seed starts with a run of tiny numbers: skip them.
for (let i = 0; i < 16; i++) random();

const APP = 'qubot-one';
const ENV = 'development';
const STRATEGIES = ['blue-green', 'rolling', 'canary'] as const;
const FINAL = ['succeeded', 'failed', 'rolled_back', 'aborted'];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Environment {
  name: string;
  address: string | null;
  replicas: number;
  live: { version: string } | null;
  activeColor: string | null;
  activeDeployment: { id: string } | null;
  instances: { id: string; pool: string; version: string; status: string; healthy: boolean }[];
}
interface Deployment {
  id: string;
  status: string;
  steps: { name: string; status: string }[];
}

function startServer(port: number, dataDir: string, logFile: string) {
  return startControlPlane({ port, dataDir, logFile, env: { LOG_LEVEL: 'info' } });
}

function apiClient(base: string) {
  const session = apiSession(base);
  const call = async <T>(
    method: 'GET' | 'POST',
    path: string,
    body?: object,
  ): Promise<{ status: number; json: T; text: string }> => {
    // Reads are retried through a busy moment (5xx, connection refused); a POST is sent once.
    for (let attempt = 1; ; attempt++) {
      try {
        const r = await session.call<T>(method, path, body);
        if (method === 'GET' && r.status >= 500 && attempt < 20) throw new Error(`HTTP ${r.status}`);
        return r;
      } catch (err) {
        if (method !== 'GET' || attempt >= 20) throw err;
        await sleep(1_000);
      }
    }
  };
  return {
    call,
    async login() {
      // A control plane just started on a busy machine may answer 5xx for a moment: retry.
      for (let attempt = 1; ; attempt++) {
        try {
          return await this.loginOnce();
        } catch (err) {
          if (attempt >= 20) throw err;
          await sleep(1_000);
        }
      }
    },
    loginOnce() {
      return session.login('release-manager', 'demo-release-manager');
    },
    async environments() {
      const r = await call<{ items: Environment[] }>('GET', `/apps/${APP}/environments`);
      if (r.status !== 200) throw new Error(`GET environments: ${r.status} ${r.text}`);
      return r.json.items;
    },
    async deployment(id: string) {
      const r = await call<Deployment>('GET', `/deployments/${id}`);
      if (r.status !== 200) throw new Error(`GET deployment: ${r.status} ${r.text}`);
      return r.json;
    },
  };
}
type Api = ReturnType<typeof apiClient>;

/** Every environment live, nothing deploying, and each live colour at full strength. */
async function waitIdle(api: Api, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const envs = await api.environments().catch(() => []);
    const settled = envs.every((e) => {
      const active = e.instances.filter((i) => i.pool === e.activeColor);
      return (
        e.live &&
        !e.activeDeployment &&
        e.address &&
        active.length >= e.replicas &&
        active.every((i) => i.healthy) &&
        // The old colour's scale-down (after a blue-green or canary) has finished too.
        e.instances.every((i) => i.status !== 'stopping' && i.status !== 'starting')
      );
    });
    if (envs.length && settled) return envs;
    if (Date.now() > deadline)
      throw new Error(
        `environments not idle after ${timeoutMs / 1000} s: ${JSON.stringify(envs.map((e) => [e.name, e.live, e.activeDeployment, e.instances]))}`,
      );
    await sleep(300);
  }
}

/** Instance directories whose supervisor process is alive: what actually runs, whatever the DB says. */
function runningInstances(dataDir: string): string[] {
  const dir = join(dataDir, 'runtime', 'instances');
  let ids: string[] = [];
  try {
    ids = readdirSync(dir);
  } catch {
    return [];
  }
  return ids.filter((id) => {
    try {
      const st = JSON.parse(readFileSync(join(dir, id, 'status.json'), 'utf8')) as { supervisorPid: number };
      const cmd = readFileSync(`/proc/${st.supervisorPid}/cmdline`, 'utf8');
      // Its own spec file on the command line: a pid reused by another supervisor does not count.
      return cmd.includes('supervisor-main') && cmd.includes(join(dir, id, 'spec.json'));
    } catch {
      return false;
    }
  });
}

/** Processes started from the data directory (PostgreSQL, routers, supervisors, instances). */
function ourProcesses(dataDir: string, extra: number[]): number[] {
  const out: number[] = [];
  const parents = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid)) continue;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      parents.set(pid, Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      let cwd = '';
      try {
        cwd = readlinkSync(`/proc/${pid}/cwd`);
      } catch {}
      if (extra.includes(pid) || cmd.includes(dataDir) || cwd.startsWith(dataDir)) out.push(pid);
    } catch {}
  }
  for (let grew = true; grew; ) {
    grew = false;
    for (const [pid, ppid] of parents)
      if (!out.includes(pid) && out.includes(ppid)) {
        out.push(pid);
        grew = true;
      }
  }
  return out;
}

interface Round {
  n: number;
  strategy: string;
  version: string;
  killAfterMs: number;
  killedDuring: string;
  restartMs: number;
  status: string;
  replicas: number;
  activeInstances: number;
  strays: string[];
  missing: string[];
  failed: number;
  ok: boolean;
}

async function main() {
  const started = performance.now();
  const loadBefore = loadavg();
  const dataDir = mkdtempSync(join(tmpdir(), 'qubot-bench-soak-'));
  // As root, the embedded PostgreSQL runs as `postgres`: it must be able to traverse the data dir.
  chmodSync(dataDir, 0o711);
  const logFile = join(dataDir, 'api.log');
  const port = await freePort();
  let server: ChildProcess | undefined;
  const rounds: Round[] = [];
  const samples: Sample[] = [];
  let ok = true;
  let loadStop: AbortController | null = null;
  let load: ReturnType<typeof runLoad> | null = null;
  try {
    let s = await startServer(port, dataDir, logFile);
    server = s.child;
    let api = apiClient(s.base);
    await api.login();
    const envs = await waitIdle(api, 240_000);
    const dev = envs.find((e) => e.name === ENV);
    if (!dev?.address) throw new Error('development has no address');
    console.log(
      `control plane up after ${fmt((performance.now() - started) / 1000, 1)} s; ${ENV} at ${dev.address}`,
    );
    loadStop = new AbortController();
    load = runLoad({
      url: `${dev.address}/`,
      signal: loadStop.signal,
      concurrency,
      rate,
      onSample: (x) => samples.push(x),
    });
    let live = dev.live?.version ?? '1.0.0';
    for (let n = 1; n <= kills; n++) {
      const strategy = STRATEGIES[(n - 1) % STRATEGIES.length] as (typeof STRATEGIES)[number];
      const current = (await api.environments()).find((e) => e.name === ENV);
      const running = new Set((current?.instances ?? []).map((i) => i.version));
      const version =
        ['1.1.0', '1.2.0', '1.0.0'].find((v) => v !== live && !running.has(v)) ??
        (live === '1.1.0' ? '1.2.0' : '1.1.0');
      const failedBefore = samples.filter((x) => x.error !== null || (x.status ?? 0) >= 500).length;
      const res = await api.call<Deployment>('POST', `/apps/${APP}/environments/${ENV}/deployments`, {
        version,
        strategy,
        options:
          strategy === 'blue-green'
            ? { autoSwitch: true, rollbackWindowSeconds: 1 }
            : strategy === 'rolling'
              ? { maxSurge: 1, maxUnavailable: 0 }
              : { steps: [25, 50, 100], stepDurationSeconds: 1 },
        reason: `bench: crash soak round ${n}`,
      });
      if (res.status !== 202) throw new Error(`round ${n}: POST answered ${res.status} ${res.text}`);
      const killAfterMs = Math.round(200 + random() * (maxDelayMs - 200));
      await sleep(killAfterMs);
      const before = await api.deployment(res.json.id).catch(() => null);
      const killedDuring =
        before && FINAL.includes(before.status)
          ? `after it ${before.status}`
          : (before?.steps.find((x) => x.status === 'running')?.name ?? before?.status ?? '?');
      const exited = new Promise((r) => server?.once('exit', r));
      server.kill('SIGKILL');
      await exited;
      const t0 = performance.now();
      s = await startServer(port, dataDir, logFile);
      server = s.child;
      const restartMs = performance.now() - t0;
      api = apiClient(s.base);
      await api.login();
      const deadline = Date.now() + 240_000;
      let d = await api.deployment(res.json.id);
      while (!FINAL.includes(d.status)) {
        if (Date.now() > deadline) throw new Error(`round ${n}: deployment still ${d.status} after 240 s`);
        await sleep(200);
        d = await api.deployment(res.json.id);
      }
      const after = (await waitIdle(api, 120_000)).find((e) => e.name === ENV) as Environment;
      const all = await api.environments();
      const rows = all.flatMap((e) => e.instances.map((i) => i.id));
      const procs = runningInstances(dataDir);
      const active = after.instances.filter((i) => i.pool === after.activeColor);
      const failed = samples.filter((x) => x.error !== null || (x.status ?? 0) >= 500).length - failedBefore;
      const round: Round = {
        n,
        strategy,
        version,
        killAfterMs,
        killedDuring,
        restartMs,
        status: d.status,
        replicas: after.replicas,
        activeInstances: active.length,
        strays: procs.filter((id) => !rows.includes(id)),
        missing: rows.filter((id) => !procs.includes(id)),
        failed,
        ok: false,
      };
      round.ok =
        round.failed === 0 &&
        round.activeInstances === round.replicas &&
        active.every((i) => i.version === after.live?.version && i.healthy) &&
        round.strays.length === 0 &&
        round.missing.length === 0;
      if (!round.ok) ok = false;
      rounds.push(round);
      live = after.live?.version ?? live;
      console.log(
        `round ${n}/${kills} ${strategy} → ${version}: killed ${killAfterMs} ms in (during "${killedDuring}"), ` +
          `back in ${fmt(restartMs / 1000, 1)} s, ${d.status}; ${active.length}/${after.replicas} instances on ${after.activeColor}, ` +
          `${round.strays.length} strays, ${round.missing.length} missing, ${failed} failed requests${round.ok ? '' : '  <-- FAIL'}`,
      );
    }
  } catch (err) {
    ok = false;
    console.error(`crash soak failed: ${err instanceof Error ? err.message : String(err)}`);
  } finally {
    loadStop?.abort();
    const r = await load;
    const failures = samples.filter((x) => x.error !== null || (x.status ?? 0) >= 500);
    const la = (l: number[]) => l.map((x) => x.toFixed(1)).join(' ');
    console.log(
      `\nCrash soak — ${rounds.length} SIGKILLs of the API under ${rate} req/s (${concurrency} workers) on ${ENV}'s address; ` +
        `${cpus().length} × ${cpus()[0]?.model.trim() ?? 'cpu'}, Node ${process.versions.node}; ` +
        `load average before ${la(loadBefore)}, after ${la(loadavg())}\n`,
    );
    console.log(
      '| strategy | rounds | succeeded | exact replicas | strays | failed requests | mean restart s |',
    );
    console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: |');
    for (const st of STRATEGIES) {
      const rs = rounds.filter((x) => x.strategy === st);
      if (!rs.length) continue;
      console.log(
        `| ${st} | ${rs.length} | ${rs.filter((x) => x.status === 'succeeded').length} | ` +
          `${rs.filter((x) => x.activeInstances === x.replicas).length} | ${rs.reduce((a, x) => a + x.strays.length, 0)} | ` +
          `${rs.reduce((a, x) => a + x.failed, 0)} | ${fmt(rs.reduce((a, x) => a + x.restartMs, 0) / rs.length / 1000, 1)} |`,
      );
    }
    console.log(
      `\ntotal: ${r?.requests ?? samples.length} requests, ${failures.length} failed, ${fmt(r?.rps ?? 0, 0)} req/s, ` +
        `p50 ${fmt(r?.p50 ?? Number.NaN)} ms, p99 ${fmt(r?.p99 ?? Number.NaN)} ms; ` +
        `${rounds.filter((x) => x.ok).length}/${rounds.length} rounds exact`,
    );
    if (failures.length) {
      const t0 = samples[0]?.sentAt ?? 0;
      console.log(
        `first failures: ${failures
          .slice(0, 10)
          .map((x) => `t=${fmt((x.sentAt - t0) / 1000, 2)}s ${x.error ?? `HTTP ${x.status}`}`)
          .join('; ')}`,
      );
    }
    for (const x of rounds.filter((y) => !y.ok)) console.log(`round ${x.n} failed: ${JSON.stringify(x)}`);
    // Demo mode's clean stop takes routers, instances and PostgreSQL down; anything left is killed.
    const procs = ourProcesses(dataDir, server?.pid ? [server.pid] : []);
    if (server && server.exitCode === null) {
      const exited = new Promise((res) => server?.once('exit', res));
      server.kill('SIGTERM');
      await Promise.race([exited, sleep(60_000)]);
    }
    await sleep(2_000);
    for (const pid of ourProcesses(dataDir, [])) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {}
    }
    console.log(
      `processes: ${procs.length} at the end (server, PostgreSQL, routers, supervisors, instances)`,
    );
    if (!ok) {
      const kept = join(tmpdir(), `qubot-bench-soak-${process.pid}.log`);
      try {
        copyFileSync(logFile, kept);
        console.log(`API log kept at ${kept}`);
      } catch {}
    }
    removeEmbeddedData(dataDir);
    console.log(`total ${fmt((performance.now() - started) / 1000, 0)} s`);
    console.log(
      `reproduce: node --import tsx bench/crash-soak.ts --kills ${kills} --rate ${rate} --concurrency ${concurrency} ` +
        `--seed ${values.seed} --max-delay-seconds ${maxDelayMs / 1000}`,
    );
  }
  if (!ok) process.exitCode = 1;
}

await main();
