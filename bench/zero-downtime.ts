// Zero downtime: a steady load (1,000 req/s by default) against an environment's address while
// the real control plane deploys a new release with each strategy, counting every failed request
// and which version answered when. A baseline (same load, same duration, no deployment) is taken
// in the same run.
//
//   node --import tsx bench/zero-downtime.ts [--rate 1000] [--concurrency 64] [--seconds-before 1]
//     [--seconds-after 1] [--strategies blue-green,rollback,rolling,canary] [--step-seconds 2]
//     [--replicas 10] [--min-requests 50000] [--provider node|haproxy]
//
// The API runs as in production: `apps/api/src/main.ts --demo` in a child process on an embedded
// PostgreSQL, with the local driver starting real Qubot-One processes behind the environment's
// traffic router. Strategies run one after another on `development`; `rollback` is the instant
// switch back to the still-warm colour of the blue-green run before it. With `--replicas N` the
// environment is first scaled to N instances (settings, then an unmeasured blue-green deployment),
// so every strategy moves N instances; `--min-requests` keeps each window's load running after the
// deployment until that many requests were sent. With `--provider haproxy` the environment's
// traffic provider is changed to HAProxy first (an admin's settings change: the handover happens
// before any window), so every window goes through HAProxy; canary analysis then judges the error
// rate only (HAProxy measures no latency: `analysis.maxP95Ms: null`).
import type { ChildProcess } from 'node:child_process';
import { chmodSync, copyFileSync, mkdtempSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { cpus, loadavg, tmpdir, uptime } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { removeEmbeddedData } from '@qubot/db';
import { apiSession, startControlPlane } from './control-plane.ts';
import { fmt, runLoad, type Sample } from './load.ts';

const STRATEGIES = ['blue-green', 'rolling', 'canary', 'rollback'] as const;
type Strategy = (typeof STRATEGIES)[number];

const { values } = parseArgs({
  options: {
    rate: { type: 'string', default: '1000' },
    concurrency: { type: 'string', default: '64' },
    'seconds-before': { type: 'string', default: '1' },
    'seconds-after': { type: 'string', default: '1' },
    strategies: { type: 'string', default: 'blue-green,rollback,rolling,canary' },
    'step-seconds': { type: 'string', default: '2' },
    /** Print each deployment's steps with their times relative to the deployment request. */
    steps: { type: 'boolean', default: false },
    /** Instances per colour on the environment (1–20); unset = the demo's own count. */
    replicas: { type: 'string' },
    /** Keep each window's load running after the deployment until this many requests were sent. */
    'min-requests': { type: 'string', default: '0' },
    /** The environment's traffic provider for the runs: node (the demo's) or haproxy. */
    provider: { type: 'string', default: 'node' },
  },
});
const provider = values.provider as 'node' | 'haproxy';
if (provider !== 'node' && provider !== 'haproxy') throw new Error('--provider: node or haproxy');
const rate = Number(values.rate);
const concurrency = Number(values.concurrency);
const secondsBefore = Number(values['seconds-before']);
const secondsAfter = Number(values['seconds-after']);
const stepSeconds = Number(values['step-seconds']);
const strategies = (values.strategies ?? '').split(',').filter(Boolean) as Strategy[];
const replicas = values.replicas === undefined ? null : Number(values.replicas);
const minRequests = Number(values['min-requests']);
if (replicas !== null && !(Number.isInteger(replicas) && replicas >= 1 && replicas <= 20))
  throw new Error('--replicas: an integer in 1..20');
if (!(Number.isInteger(minRequests) && minRequests >= 0)) throw new Error('--min-requests: an integer ≥ 0');
for (const [flag, v] of Object.entries({ rate, concurrency, secondsBefore, secondsAfter, stepSeconds }))
  if (!(Number.isFinite(v) && v >= 0)) throw new Error(`--${flag}: a number ≥ 0`);
for (const s of strategies)
  if (!STRATEGIES.includes(s)) throw new Error(`--strategies: unknown "${s}" (${STRATEGIES.join(', ')})`);

const APP = 'qubot-one';
const ENV = 'development';
const FINAL = ['succeeded', 'failed', 'rolled_back', 'aborted'];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Server timestamps (ISO) on the bench's performance clock: same machine, same wall clock. */
const perfAt = (iso: string | null | undefined) =>
  iso ? Date.parse(iso) - performance.timeOrigin : Number.NaN;

interface Step {
  name: string;
  status: string;
  message: string | null;
  startedAt: string | null;
  finishedAt: string | null;
}
interface Deployment {
  id: string;
  status: string;
  strategy: string;
  error: string | null;
  release: { version: string };
  fromVersion: string | null;
  steps: Step[];
  traffic: { requests: number; failed: number };
  createdAt: string;
  finishedAt: string | null;
}
// ---------------------------------------------------------------------------------------------
// The control plane in a child process.

function startServer(dataDir: string, logFile: string) {
  return startControlPlane({ dataDir, logFile, readyTimeoutMs: 120_000 });
}

function apiClient(base: string) {
  const session = apiSession(base);
  return { ...session, environments: () => session.environments(APP) };
}
type Api = ReturnType<typeof apiClient>;

// ---------------------------------------------------------------------------------------------
// Processes: the bench must leave none behind.

interface Proc {
  pid: number;
  start: string;
  what: string;
}
function procInfo(pid: number): { ppid: number; start: string; cmd: string; cwd: string } | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').trim();
    let cwd = '';
    try {
      cwd = readlinkSync(`/proc/${pid}/cwd`);
    } catch {}
    return { ppid: Number(fields[1]), start: fields[19] ?? '', cmd, cwd };
  } catch {
    return null;
  }
}
/** The server, everything it spawned, and the detached supervisors/routers living in `dataDir`. */
function ourProcesses(serverPid: number, dataDir: string): Proc[] {
  const all = new Map<number, NonNullable<ReturnType<typeof procInfo>>>();
  for (const name of readdirSync('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid)) continue;
    const info = procInfo(pid);
    if (info) all.set(pid, info);
  }
  const ours = new Set<number>();
  for (const [pid, p] of all)
    if (pid === serverPid || p.cmd.includes(dataDir) || p.cwd.startsWith(dataDir)) ours.add(pid);
  for (let grew = true; grew; ) {
    grew = false;
    for (const [pid, p] of all)
      if (!ours.has(pid) && ours.has(p.ppid)) {
        ours.add(pid);
        grew = true;
      }
  }
  return [...ours].map((pid) => {
    const p = all.get(pid) as NonNullable<ReturnType<typeof procInfo>>;
    return { pid, start: p.start, what: p.cmd.slice(0, 120) };
  });
}
const alive = (procs: Proc[]) => procs.filter((p) => procInfo(p.pid)?.start === p.start);

// ---------------------------------------------------------------------------------------------
// One measured window.

interface Window {
  name: string;
  version: string;
  fromVersion: string;
  status: string;
  deploySeconds: number;
  windowSeconds: number;
  requests: number;
  failed: number;
  rps: number;
  p50: number;
  p99: number;
  /** Seconds from the deployment request to the first answer by the new version. */
  firstNew: number;
  /** Seconds between the first new-version answer and the last old-version answer. */
  mixedSeconds: number;
  /** Old-version answers to requests sent after a new-version answer had arrived. */
  oldAfterSwitch: number;
  /** Load workers that saw the version change more than once (old → new → old …). */
  flappingWorkers: number;
  router: { requests: number; failed: number } | null;
  failures: string[];
  steps: string[];
  samples: Sample[];
}

async function window(
  name: string,
  address: string,
  action: (() => Promise<{ start: () => Promise<Deployment> }>) | { durationMs: number },
  versions: { from: string; to: string },
): Promise<Window> {
  const samples: Sample[] = [];
  const stop = new AbortController();
  // Enough traffic in the window: keep the load on until `minRequests` were answered or failed.
  const enough = async () => {
    while (samples.length < minRequests) await sleep(200);
  };
  const load = runLoad({
    url: `${address}/`,
    signal: stop.signal,
    concurrency,
    rate,
    onSample: (s) => samples.push(s),
  });
  const t0 = performance.now();
  let deployment: Deployment | null = null;
  let tPost = t0;
  if ('durationMs' in action) {
    await sleep(action.durationMs);
    await enough();
  } else {
    const prepared = await action();
    await sleep(secondsBefore * 1000);
    tPost = performance.now();
    deployment = await prepared.start();
    await sleep(secondsAfter * 1000);
    await enough();
  }
  stop.abort();
  const r = await load;
  const rel = (t: number) => (t - tPost) / 1000;

  const firstNewAt = Math.min(...samples.filter((s) => s.version === versions.to).map((s) => s.doneAt));
  const lastOldAt = Math.max(...samples.filter((s) => s.version === versions.from).map((s) => s.doneAt));
  const oldAfterSwitch = samples.filter((s) => s.version === versions.from && s.sentAt > firstNewAt).length;
  const runs = new Map<number, string[]>();
  for (const s of samples) {
    if (!s.version) continue;
    const seen = runs.get(s.worker) ?? [];
    if (seen[seen.length - 1] !== s.version) seen.push(s.version);
    runs.set(s.worker, seen);
  }
  const stepAt = (t: number) =>
    deployment?.steps.find(
      (st) => perfAt(st.startedAt) <= t && (st.finishedAt === null || t <= perfAt(st.finishedAt)),
    )?.name ?? 'between steps';
  const failures = samples
    .filter((s) => s.error !== null || (s.status !== null && s.status >= 500))
    .map(
      (s) =>
        `t=${fmt(rel(s.sentAt), 3)}s→${fmt(rel(s.doneAt), 3)}s ${s.error ?? `HTTP ${s.status}`} ` +
        `(worker ${s.worker}, during "${stepAt(s.sentAt)}")`,
    );
  return {
    name,
    version: versions.to,
    fromVersion: versions.from,
    status: deployment?.status ?? '—',
    deploySeconds: deployment
      ? (Date.parse(deployment.finishedAt ?? '') - Date.parse(deployment.createdAt)) / 1000
      : Number.NaN,
    windowSeconds: r.durationMs / 1000,
    requests: r.requests,
    failed: r.failed,
    rps: (r.requests / r.durationMs) * 1000,
    p50: r.p50,
    p99: r.p99,
    firstNew: deployment ? rel(firstNewAt) : Number.NaN,
    mixedSeconds: deployment && Number.isFinite(firstNewAt) ? Math.max(0, lastOldAt - firstNewAt) / 1000 : 0,
    oldAfterSwitch: deployment ? oldAfterSwitch : 0,
    flappingWorkers: [...runs.values()].filter((v) => v.length > 2).length,
    router: deployment?.traffic ?? null,
    failures,
    steps: (deployment?.steps ?? []).map(
      (st) =>
        `${fmt(rel(perfAt(st.startedAt)), 2)}s → ${fmt(rel(perfAt(st.finishedAt)), 2)}s ${st.name}: ${st.status}` +
        `${st.message ? ` (${st.message})` : ''}`,
    ),
    samples,
  };
}

/** Starts a deployment (or rollback) and returns once it has reached a final status. */
function deployer(api: Api, strategy: Strategy, version: string) {
  return async () => ({
    start: async () => {
      const res =
        strategy === 'rollback'
          ? await api.call<Deployment>('POST', `/apps/${APP}/environments/${ENV}/rollback`, {
              reason: 'bench: zero downtime (rollback)',
            })
          : await api.call<Deployment>('POST', `/apps/${APP}/environments/${ENV}/deployments`, {
              version,
              strategy,
              options:
                strategy === 'blue-green'
                  ? { autoSwitch: true }
                  : strategy === 'rolling'
                    ? { maxSurge: 1, maxUnavailable: 0 }
                    : {
                        steps: [10, 25, 50, 100],
                        stepDurationSeconds: stepSeconds,
                        ...(provider === 'haproxy' ? { analysis: { maxP95Ms: null } } : {}),
                      },
              reason: `bench: zero downtime (${strategy})`,
            });
      if (res.status !== 202) throw new Error(`${strategy}: POST answered ${res.status} ${res.text}`);
      const deadline = Date.now() + 600_000;
      for (;;) {
        const d = await api.deployment(res.json.id);
        if (FINAL.includes(d.status)) return d;
        if (Date.now() > deadline) throw new Error(`${strategy}: still ${d.status} after 600 s`);
        await sleep(100);
      }
    },
  });
}

async function waitIdle(api: Api, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const envs = await api.environments();
    if (envs.length && envs.every((e) => e.live && !e.activeDeployment && e.address)) return envs;
    if (Date.now() > deadline)
      throw new Error(
        `environments not idle after ${timeoutMs / 1000} s: ${JSON.stringify(envs.map((e) => [e.name, e.live, e.activeDeployment]))}`,
      );
    await sleep(500);
  }
}

// ---------------------------------------------------------------------------------------------

async function main() {
  const started = performance.now();
  // Other work on the machine skews every figure: the report shows the load average around the run.
  const loadBefore = loadavg();
  const dataDir = mkdtempSync(join(tmpdir(), 'qubot-bench-zd-'));
  // As root, the embedded PostgreSQL runs as `postgres`: it must be able to traverse the data dir.
  chmodSync(dataDir, 0o711);
  const logFile = join(dataDir, 'api.log');
  let server: ChildProcess | undefined;
  let ok = true;
  const results: Window[] = [];
  const leftovers: Proc[] = [];
  let procs: Proc[] = [];
  try {
    const s = await startServer(dataDir, logFile);
    server = s.child;
    const api = apiClient(s.base);
    await api.login('release-manager', 'demo-release-manager');
    const envs = await waitIdle(api, 180_000);
    const dev = envs.find((e) => e.name === ENV);
    if (!dev?.address || dev.live?.version !== '1.0.0')
      throw new Error(`development is not live on 1.0.0: ${JSON.stringify(dev)}`);
    const setupSeconds = (performance.now() - started) / 1000;
    console.log(
      `control plane up, 1.0.0 live everywhere after ${fmt(setupSeconds, 1)} s; ${ENV} at ${dev.address}`,
    );

    if (provider !== 'node') {
      // Settings are an admin's: a session of its own. The handover keeps the address.
      const admin = apiSession(s.base);
      await admin.login('admin', 'demo-admin');
      const t0 = performance.now();
      const r = await admin.call<{ trafficProvider?: string; address: string | null }>(
        'PATCH',
        `/apps/${APP}/environments/${ENV}/settings`,
        { trafficProvider: provider, reason: `bench: zero downtime through ${provider}` },
      );
      if (r.status !== 200 || r.json.trafficProvider !== provider || r.json.address !== dev.address)
        throw new Error(`PATCH settings trafficProvider: ${r.status} ${r.text}`);
      console.log(
        `${ENV} handed over to the ${provider} traffic provider in ${fmt((performance.now() - t0) / 1000, 2)} s, same address`,
      );
    }

    // Warm the path (JIT, keep-alive connections to the router and from it) before measuring.
    await runLoad({ url: `${dev.address}/`, durationMs: 2_000, concurrency, rate });

    let live = dev.live.version;
    let previous: string | null = null;
    // A release that is neither live nor still warm on the idle colour: a warm one would be
    // reused (a rolling deployment of it is then one batch that moves all traffic at once).
    const fresh = async () => {
      const running = new Set(
        ((await api.environments()).find((e) => e.name === ENV)?.instances ?? []).map((i) => i.version),
      );
      return (
        ['1.1.0', '1.2.0', '1.0.0'].find((v) => v !== live && !running.has(v)) ??
        (live === '1.1.0' ? '1.2.0' : '1.1.0')
      );
    };
    if (replicas !== null) {
      const liveCount = () =>
        api
          .environments()
          .then((es) => es.find((e) => e.name === ENV))
          .then((e) => e?.instances.filter((i) => i.version === e.live?.version && i.healthy).length ?? 0);
      const before = await liveCount();
      const r = await api.call('PATCH', `/apps/${APP}/environments/${ENV}/settings`, {
        replicas,
        reason: `bench: zero downtime with ${replicas} replicas`,
      });
      if (r.status !== 200) throw new Error(`PATCH settings: ${r.status} ${r.text}`);
      // A live environment scales at once (a `scale` deployment of the live release): wait for it.
      await waitIdle(api, 300_000);
      if ((await liveCount()) !== replicas) {
        // Nothing was live to scale: one unmeasured blue-green run brings N instances up.
        const version = await fresh();
        const d = await (await deployer(api, 'blue-green', version)()).start();
        if (d.status !== 'succeeded')
          throw new Error(`scaling to ${replicas} replicas: ${d.status} ${d.error}`);
        await waitIdle(api, 120_000);
        previous = live;
        live = version;
      }
      console.log(`${ENV} scaled from ${before} to ${await liveCount()} live instances (${live})`);
    }
    for (const strategy of strategies) {
      const version = strategy === 'rollback' ? (previous ?? '1.0.0') : await fresh();
      const w = await window(strategy, dev.address, deployer(api, strategy, version), {
        from: live,
        to: version,
      });
      results.push(w);
      console.log(
        `${strategy}: ${live} → ${version} ${w.status} in ${fmt(w.deploySeconds, 1)} s; ` +
          `${w.requests} requests, ${w.failed} failed, ${fmt(w.rps, 0)} req/s`,
      );
      if (values.steps || w.status !== 'succeeded') console.log(`  ${w.steps.join('\n  ')}`);
      if (w.status !== 'succeeded' || w.failed > 0) ok = false;
      const now = (await api.environments()).find((e) => e.name === ENV);
      previous = live;
      live = now?.live?.version ?? version;
      // Let the scale-down and router settle before the next window.
      await waitIdle(api, 180_000);
    }
    const deployed = results.filter((w) => Number.isFinite(w.windowSeconds));
    const baselineMs =
      (1000 * deployed.reduce((a, w) => a + w.windowSeconds, 0)) / Math.max(1, deployed.length) || 5_000;
    const base = await window(
      'baseline (no deployment)',
      dev.address,
      { durationMs: baselineMs },
      {
        from: live,
        to: live,
      },
    );
    results.unshift(base);
    if (base.failed > 0) ok = false;

    procs = ourProcesses(server.pid as number, dataDir);
    report(results, setupSeconds, loadBefore);
  } catch (err) {
    ok = false;
    console.error(`zero-downtime bench failed: ${err instanceof Error ? err.message : String(err)}`);
    if (server?.pid) procs = ourProcesses(server.pid, dataDir);
  } finally {
    if (server && server.exitCode === null) {
      const exited = new Promise((r) => server?.once('exit', r));
      server.kill('SIGTERM');
      await Promise.race([exited, sleep(40_000)]);
    }
    // Demo mode's clean stop takes instances and routers down; anything still alive is a leak.
    const deadline = Date.now() + 10_000;
    while (alive(procs).length && Date.now() < deadline) await sleep(200);
    leftovers.push(...alive(procs));
    for (const p of leftovers) {
      try {
        process.kill(p.pid, 'SIGKILL');
      } catch {}
    }
    console.log(
      `\nprocesses: ${procs.length} running before SIGTERM (server, PostgreSQL, routers, supervisors, instances); ` +
        `${leftovers.length} left after SIGTERM${leftovers.length ? ` (killed): ${leftovers.map((p) => `${p.pid} ${p.what}`).join('; ')}` : ''}`,
    );
    if (leftovers.length) ok = false;
    if (!ok) {
      const kept = join(tmpdir(), `qubot-bench-zd-${process.pid}.log`);
      try {
        copyFileSync(logFile, kept);
        console.log(`API log kept at ${kept}`);
      } catch {}
    }
    removeEmbeddedData(dataDir);
  }
  console.log(`total ${fmt((performance.now() - started) / 1000, 0)} s`);
  if (!ok) process.exitCode = 1;
}

function report(results: Window[], setupSeconds: number, loadBefore: number[]) {
  const cpu = cpus();
  const la = (l: number[]) => l.map((x) => x.toFixed(1)).join(' ');
  console.log(
    `\nZero downtime — target ${rate} req/s (${concurrency} closed-loop workers) on ${ENV}'s address, ` +
      `from ${secondsBefore} s before each deployment until ${secondsAfter} s after it succeeded; ` +
      `${cpu.length} × ${cpu[0]?.model.trim() ?? 'cpu'}, Node ${process.versions.node}; ` +
      `${replicas === null ? '' : `${replicas} replicas, `}` +
      `traffic provider ${provider}, ` +
      `${minRequests ? `at least ${minRequests} requests per window, ` : ''}` +
      `load average before ${la(loadBefore)}, after ${la(loadavg())} (up ${fmt(uptime() / 60, 0)} min)\n`,
  );
  console.log(
    '| run | version | status | deploy s | window s | requests | failed | achieved req/s | p50 ms | p99 ms | first new at s | mixed s | old after switch | flapping workers | router req / failed |',
  );
  console.log(
    '| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  );
  for (const w of results) {
    const isBase = w.status === '—';
    console.log(
      `| ${w.name} | ${isBase ? w.version : `${w.fromVersion} → ${w.version}`} | ${w.status} | ${fmt(w.deploySeconds, 1)} | ` +
        `${fmt(w.windowSeconds, 1)} | ${w.requests} | ${w.failed} | ${fmt(w.rps, 0)} | ${fmt(w.p50)} | ${fmt(w.p99)} | ` +
        `${isBase ? '—' : fmt(w.firstNew, 2)} | ${isBase ? '—' : fmt(w.mixedSeconds, 2)} | ` +
        `${isBase ? '—' : w.name === 'blue-green' || w.name === 'rollback' ? w.oldAfterSwitch : 'n/a'} | ` +
        `${w.flappingWorkers} | ${w.router ? `${w.router.requests} / ${w.router.failed}` : '—'} |`,
    );
  }
  const deployments = results.filter((w) => w.status !== '—');
  const failed = deployments.reduce((a, w) => a + w.failed, 0);
  const fewest = Math.min(...deployments.map((w) => w.requests));
  console.log(
    `\ngoal "0 failed out of ≥ ${minRequests || 'n/a'} requests per strategy at ${rate} req/s` +
      `${replicas === null ? '' : `, ${replicas} instances`}${provider === 'node' ? '' : `, through ${provider}`}": ${failed} failed; fewest requests in a window ${fewest}; ` +
      `${
        failed === 0 && fewest >= minRequests && deployments.every((w) => w.status === 'succeeded')
          ? deployments.every((w) => w.rps >= rate * 0.95)
            ? 'met'
            : `NOT met at that rate (0 failed and enough requests, but the rate was not held: below)`
          : 'NOT met'
      }`,
  );
  const short = results.filter((w) => w.rps < rate * 0.95);
  if (short.length)
    console.log(
      `\nThe target rate was not reached in: ${short.map((w) => `${w.name} (${fmt(w.rps, 0)} req/s)`).join(', ')} — ` +
        'the load generator, API, PostgreSQL, router and instances share this machine; see p99.',
    );
  for (const w of results)
    if (w.failures.length)
      console.log(
        `\n${w.name}: ${w.failures.length} failed requests, first ${Math.min(20, w.failures.length)}:\n  ${w.failures.slice(0, 20).join('\n  ')}`,
      );
  console.log(
    `\n"first new at" and "mixed" are measured from the deployment request; "old after switch" counts ` +
      'old-version answers to requests sent after a new-version answer had arrived (must be 0 for an atomic ' +
      `switch); "flapping workers" saw the version change back and forth (expected while canary/rolling mix). Setup: ${fmt(setupSeconds, 1)} s.`,
  );
  console.log(
    `\nreproduce: node --import tsx bench/zero-downtime.ts --rate ${rate} --concurrency ${concurrency} ` +
      `--seconds-before ${secondsBefore} --seconds-after ${secondsAfter} --strategies ${strategies.join(',')} --step-seconds ${stepSeconds}` +
      `${replicas === null ? '' : ` --replicas ${replicas}`}${minRequests ? ` --min-requests ${minRequests}` : ''}` +
      `${provider === 'node' ? '' : ` --provider ${provider}`}`,
  );
}

await main();
