// Router overhead: one Qubot-One instance measured directly, through the traffic router, through
// HAProxy 2.6 (a plain hand-written config), and through the HAProxy traffic provider (HAProxy as
// `HaproxyProvider` configures and drives it: split map, server slots, health checks), with wrk,
// the paths interleaved for several rounds in one run, so every figure is compared against
// baselines taken on the same machine at the same time.
//
//   node --import tsx bench/router-overhead.ts [--seconds 10] [--connections 32] [--rounds 3]
//     [--threads 2] [--warmup 2] [--rate 2000] [--paced-seconds 5] [--baseline-router ../wt-main]
//
// wrk and haproxy come from Debian (`apt-get install -y wrk haproxy`); as root the bench installs
// whichever is missing. HAProxy runs in the foreground (`-db`) with a generated config on a free
// loopback port — never as a system service — and is stopped at the end.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import {
  freePort,
  HaproxyProvider,
  LocalDriver,
  RouterClient,
  startRouter,
  stopRouter,
  tsxLoader,
} from '@qubot/runtime';
import { cpuMs, pacedLoad } from './load.ts';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '10' },
    connections: { type: 'string', default: '32' },
    rounds: { type: 'string', default: '3' },
    threads: { type: 'string', default: '2' },
    warmup: { type: 'string', default: '2' },
    /** The open-loop phase: requests per second offered to each path (0: no paced phase). */
    rate: { type: 'string', default: '2000' },
    /** Seconds per path and round of the paced phase. */
    'paced-seconds': { type: 'string', default: '5' },
    /**
     * Another checkout (e.g. a worktree at main) whose router runs as a fifth path, "router
     * (baseline)": before and after in the same run.
     */
    'baseline-router': { type: 'string' },
    /** Leave HAProxy (both HAProxy paths) out, e.g. where it cannot be installed; no ratio then. */
    'no-haproxy': { type: 'boolean', default: false },
  },
});
const seconds = Number(values.seconds);
const connections = Number(values.connections);
const rounds = Number(values.rounds);
const threads = Number(values.threads);
const warmup = Number(values.warmup);
for (const [flag, v] of Object.entries({ seconds, connections, rounds, threads, warmup }))
  if (!Number.isFinite(v) || v < 0 || (flag !== 'warmup' && v < 1))
    throw new Error(`--${flag}: expected a positive number`);
const withHaproxy = !values['no-haproxy'];
const rate = Number(values.rate);
const pacedSeconds = Number(values['paced-seconds']);
if (!Number.isFinite(rate) || rate < 0) throw new Error('--rate: expected 0 or a positive number');
if (!Number.isFinite(pacedSeconds) || pacedSeconds <= 0)
  throw new Error('--paced-seconds: expected a positive number');

const root = resolve(import.meta.dirname, '..');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function which(cmd: string): string | null {
  try {
    return execFileSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).trim() || null;
  } catch {
    return null;
  }
}

/** The Debian package when the command is missing: only as root, never a service start. */
function ensureInstalled(cmd: string, pkg: string) {
  if (which(cmd)) return;
  if (process.getuid?.() !== 0) throw new Error(`${cmd} is missing: apt-get install -y ${pkg} (as root)`);
  console.log(`installing ${pkg} with apt-get …`);
  // policy-rc.d in containers denies the service start; HAProxy is run in the foreground below.
  execFileSync('apt-get', ['install', '-y', '--no-install-recommends', pkg], {
    stdio: 'inherit',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
  if (!which(cmd)) throw new Error(`${cmd} still missing after apt-get install ${pkg}`);
}

async function waitListening(port: number, what: string, child?: ChildProcess) {
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child && child.exitCode !== null) throw new Error(`${what} exited with ${child.exitCode}`);
    const ok = await new Promise<boolean>((r) => {
      const s = connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        r(true);
      });
      s.once('error', () => r(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`${what} not listening on ${port} after 10 s`);
    await sleep(50);
  }
}

/** HAProxy as a plain reverse proxy doing what the router does: keep-alive both sides, X-Forwarded-*. */
function haproxyConfig(port: number, target: string) {
  return `global
  maxconn 4096
  log stdout format raw local0 err

defaults
  mode http
  timeout connect 2s
  timeout client 60s
  timeout server 60s
  option http-keep-alive
  option forwardfor

frontend traffic
  bind 127.0.0.1:${port}
  http-request set-header X-Forwarded-Proto http
  default_backend blue

backend blue
  http-reuse safe
  http-response set-header x-qubot-pool blue
  server blue-1 ${target}
`;
}

interface WrkResult {
  rps: number;
  p50: number;
  p99: number;
  requests: number;
  errors: number;
  /** CPU time of the proxy process (router or HAProxy, all threads) per request, µs; NaN for direct. */
  proxyCpuUs: number;
}

const UNIT_MS: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000 };
const toMs = (s: string) => {
  const m = /^([\d.]+)(us|ms|s|m)$/.exec(s);
  return m ? Number(m[1]) * (UNIT_MS[m[2] as string] as number) : Number.NaN;
};

/** `wrk --latency` output → figures; any socket error or non-2xx/3xx answer counts as an error. */
function parseWrk(out: string): WrkResult {
  const pct = (p: string) => toMs(new RegExp(`^\\s*${p}%\\s+(\\S+)`, 'm').exec(out)?.[1] ?? '');
  const num = (re: RegExp) => Number(re.exec(out)?.[1] ?? 0);
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const socketErrors = sock ? sock.slice(1).reduce((a, n) => a + Number(n), 0) : 0;
  return {
    rps: num(/Requests\/sec:\s+([\d.]+)/),
    p50: pct('50'),
    p99: pct('99'),
    requests: num(/(\d+) requests in/),
    errors: socketErrors + num(/Non-2xx or 3xx responses: (\d+)/),
    proxyCpuUs: Number.NaN,
  };
}

function wrk(url: string, durationS: number, proxyPid?: number): Promise<WrkResult> {
  const cpu0 = proxyPid ? cpuMs(proxyPid) : Number.NaN;
  return new Promise((ok, fail) => {
    const child = spawn(
      'wrk',
      [`-t${threads}`, `-c${connections}`, `-d${durationS}s`, '--latency', '--timeout', '10s', url],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
    });
    child.once('error', fail);
    child.once('exit', (code) => {
      if (code !== 0) return fail(new Error(`wrk exited ${code}`));
      const r = parseWrk(out);
      if (proxyPid) r.proxyCpuUs = ((cpuMs(proxyPid) - cpu0) * 1000) / Math.max(1, r.requests);
      ok(r);
    });
  });
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};
const f = (n: number, d = 2) => (Number.isFinite(n) ? n.toFixed(d) : 'n/a');
const signed = (n: number) => (n >= 0 ? `+${f(n)}` : f(n));
const int = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : 'n/a');

/**
 * The router of another checkout, started the way `startRouter` of that checkout's time did (its
 * own router-main under tsx, no extra node flags): the "before" of a before/after in one run.
 */
async function startBaselineRouter(dir: string, dataDir: string, target: string) {
  const main = join(resolve(dir), 'packages/runtime/src/router/router-main.ts');
  const port = await freePort();
  const controlPort = await freePort();
  const secret = randomBytes(24).toString('hex');
  const child = spawn(process.execPath, ['--import', tsxLoader(), main], {
    cwd: dataDir,
    env: {
      PATH: process.env.PATH ?? '',
      QUBOT_ROUTER_PORT: String(port),
      QUBOT_ROUTER_CONTROL_PORT: String(controlPort),
      QUBOT_ROUTER_SECRET: secret,
      QUBOT_ROUTER_STATE_FILE: join(dataDir, 'baseline-router.json'),
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const client = new RouterClient({ controlUrl: `http://127.0.0.1:${controlPort}`, secret });
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`baseline router exited with ${child.exitCode}`);
    try {
      await client.health();
      break;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await sleep(100);
    }
  }
  await client.setConfig({ pools: [{ name: 'blue', version: '1.0.0', weight: 100, targets: [target] }] });
  return { child, client, url: `http://127.0.0.1:${port}/` };
}

/** The router process's own figures over one paced window, from its `/metrics` (see router-main.ts). */
interface ProcessFigures {
  /**
   * Event-loop delay p99 and max over the window, ms beyond the 10 ms sampling interval (prom-client
   * resets the histogram per scrape).
   */
  loopP99: number;
  loopMax: number;
  gcCount: number;
  gcMs: number;
  /** GC pauses over 1 ms. */
  gcOver1ms: number;
}

function gcTotals(text: string) {
  let count = 0;
  let sum = 0;
  let under1ms = 0;
  for (const m of text.matchAll(
    /^qubot_router_nodejs_gc_duration_seconds_(count|sum|bucket)\{([^}]*)\} (\S+)$/gm,
  )) {
    const v = Number(m[3]);
    if (m[1] === 'count') count += v;
    else if (m[1] === 'sum') sum += v;
    else if ((m[2] as string).includes('le="0.001"')) under1ms += v;
  }
  return { count, sum, under1ms };
}

/** Null when the router serves no process figures (a baseline from before they existed). */
async function processFigures(
  client: RouterClient,
  window: () => Promise<void>,
): Promise<ProcessFigures | null> {
  const before = await client.metrics();
  await window();
  const after = await client.metrics();
  // prom-client samples the loop every 10 ms and reports the interval between samples: the delay
  // is what exceeds those 10 ms.
  const gauge = (name: string) =>
    -10 +
    Number(new RegExp(`^qubot_router_nodejs_eventloop_lag_${name}_seconds (\\S+)$`, 'm').exec(after)?.[1]) *
      1000;
  if (!after.includes('qubot_router_nodejs_eventloop_lag_p99_seconds')) return null;
  const a = gcTotals(before);
  const b = gcTotals(after);
  const count = b.count - a.count;
  return {
    loopP99: gauge('p99'),
    loopMax: gauge('max'),
    gcCount: count,
    gcMs: (b.sum - a.sum) * 1000,
    gcOver1ms: count - (b.under1ms - a.under1ms),
  };
}

async function main() {
  ensureInstalled('wrk', 'wrk');
  if (withHaproxy) ensureInstalled('haproxy', 'haproxy');
  const loadBefore = loadavg();
  const dataDir = mkdtempSync(join(tmpdir(), 'qubot-bench-router-'));
  const driver = new LocalDriver({ dataDir, workspaceDir: root });
  let router: Awaited<ReturnType<typeof startRouter>> | undefined;
  let haproxy: ChildProcess | undefined;
  let provider: HaproxyProvider | undefined;
  let baseline: Awaited<ReturnType<typeof startBaselineRouter>> | undefined;
  try {
    const inst = await driver.start({
      instanceId: 'bench-1',
      environment: 'bench',
      version: '1.0.0',
      artifact: 'qubot-one/healthy',
      pool: 'blue',
      launcher: {
        command:
          'node --import tsx apps/qubot-one/src/main.ts --artifact {artifact} --port {port} --version {version} --pool {pool}',
        cwd: '.',
      },
    });
    const health = await driver.waitHealthy([inst], 30_000);
    if (!health.ok) throw new Error('instance did not become healthy');
    router = await startRouter({
      port: await freePort(),
      controlPort: await freePort(),
      secret: randomBytes(24).toString('hex'),
      stateFile: join(dataDir, 'router.json'),
      logFile: join(dataDir, 'router.log'),
    });
    await router.client.setConfig({
      pools: [{ name: 'blue', version: '1.0.0', weight: 100, targets: [inst.target] }],
    });
    const paths: { name: string; url: string; pid?: number; client?: RouterClient }[] = [
      { name: 'direct', url: `${inst.url}/` },
      { name: 'router', url: `${router.address}/`, pid: router.pid, client: router.client },
    ];
    if (values['baseline-router']) {
      baseline = await startBaselineRouter(values['baseline-router'], dataDir, inst.target);
      paths.push({
        name: 'router (baseline)',
        url: baseline.url,
        ...(baseline.child.pid ? { pid: baseline.child.pid } : {}),
        client: baseline.client,
      });
    }
    if (withHaproxy) {
      const port = await freePort();
      const cfg = join(dataDir, 'haproxy.cfg');
      writeFileSync(cfg, haproxyConfig(port, inst.target));
      execFileSync('haproxy', ['-c', '-q', '-f', cfg], { stdio: 'inherit' });
      haproxy = spawn('haproxy', ['-db', '-f', cfg], { stdio: ['ignore', 'ignore', 'inherit'] });
      await waitListening(port, 'haproxy', haproxy);
      paths.push({ name: 'haproxy', url: `http://127.0.0.1:${port}/`, pid: haproxy.pid });
      // The product's HAProxy: configured by the provider, the instance in a slot of pool blue,
      // traffic picked by the split map (`rand(1000),map(split.map)`), checked by HAProxy.
      provider = new HaproxyProvider({ dir: join(dataDir, 'hp'), port: await freePort() });
      await provider.start();
      await provider.setConfig({
        pools: [{ name: 'blue', version: '1.0.0', weight: 100, targets: [inst.target] }],
      });
      paths.push({
        name: 'haproxy provider',
        url: `${provider.address}/`,
        ...(provider.pid ? { pid: provider.pid } : {}),
      });
    }
    const version = withHaproxy ? execFileSync('haproxy', ['-v'], { encoding: 'utf8' }).split('\n')[0] : '';

    // Warm every path (JIT, keep-alive pools) before measuring.
    if (warmup > 0) for (const p of paths) await wrk(p.url, warmup);
    const results = new Map<string, WrkResult[]>(paths.map((p) => [p.name, []]));
    for (let r = 0; r < rounds; r++) {
      // Rotate the order each round so no path always runs first (or right after another one).
      const order = paths.map((_, i) => paths[(i + r) % paths.length] as (typeof paths)[number]);
      for (const p of order) {
        const res = await wrk(p.url, seconds, p.pid);
        results.get(p.name)?.push(res);
        console.log(
          `round ${r + 1} ${p.name.padEnd(16)} ${int(res.rps).padStart(7)} req/s  p50 ${f(res.p50)} ms  p99 ${f(res.p99)} ms` +
            `${Number.isFinite(res.proxyCpuUs) ? `  proxy CPU ${f(res.proxyCpuUs, 1)} µs/req` : ''}` +
            `${res.errors ? `  ${res.errors} errors` : ''}`,
        );
      }
    }

    // Open loop at a fixed rate, well below every path's capacity: the latency a proxy adds to a
    // request, without the queueing a closed loop at saturation measures (there every path's p99
    // is its own throughput's queue: 32 connections ÷ req/s, Little's law).
    const paced = new Map<string, Awaited<ReturnType<typeof pacedLoad>>[]>(paths.map((p) => [p.name, []]));
    const figures = new Map<string, ProcessFigures[]>(paths.map((p) => [p.name, []]));
    if (rate > 0)
      for (let r = 0; r < rounds; r++) {
        const order = paths.map((_, i) => paths[(i + r) % paths.length] as (typeof paths)[number]);
        for (const p of order) {
          let res: Awaited<ReturnType<typeof pacedLoad>> | undefined;
          const run = async () => {
            res = await pacedLoad(p.url, { rate, durationMs: pacedSeconds * 1000, connections });
          };
          let proc: ProcessFigures | null = null;
          if (p.client) proc = await processFigures(p.client, run);
          else await run();
          if (!res) throw new Error('paced load did not run');
          paced.get(p.name)?.push(res);
          if (proc) figures.get(p.name)?.push(proc);
          console.log(
            `paced ${r + 1} ${p.name.padEnd(16)} ${int(res.sent).padStart(7)} sent  p50 ${f(res.p50)} ms  p99 ${f(res.p99)} ms  max ${f(res.max)} ms${res.failed ? `  ${res.failed} failed` : ''}` +
              (proc
                ? `  | loop delay p99 ${f(proc.loopP99)} max ${f(proc.loopMax)} ms, GC ${proc.gcCount}× ${f(proc.gcMs, 1)} ms, ${proc.gcOver1ms} over 1 ms`
                : ''),
          );
        }
      }

    const cpu = cpus();
    console.log(
      `\nRouter overhead — wrk ${threads} threads, ${connections} connections, ${seconds} s per path, ` +
        `${rounds} interleaved rounds, one Qubot-One instance, loopback; ${cpu.length} × ${cpu[0]?.model.trim()}, ` +
        `Node ${process.versions.node}${version ? `, ${version.replace(/ - https.*/, '')}` : ''}; ` +
        `load average before ${loadBefore.map((x) => x.toFixed(2)).join(' ')}, after ${loadavg()
          .map((x) => x.toFixed(2))
          .join(' ')}\n`,
    );
    const all = (name: string) => results.get(name) ?? [];
    const cols = (p: (typeof paths)[number]) =>
      `${p.name} req/s | ${p.name} p50 ms | ${p.name} p99 ms${p.pid ? ` | ${p.name} CPU µs/req` : ''}`;
    console.log(`| round | ${paths.map(cols).join(' | ')} |`);
    console.log(`| --- | ${paths.map((p) => `---: | ---: | ---:${p.pid ? ' | ---:' : ''}`).join(' | ')} |`);
    const cell = (p: (typeof paths)[number], r: WrkResult) =>
      `${int(r.rps)} | ${f(r.p50)} | ${f(r.p99)}${p.pid ? ` | ${f(r.proxyCpuUs, 1)}` : ''}`;
    const row = (label: string, pick: (name: string) => WrkResult) =>
      console.log(`| ${label} | ${paths.map((p) => cell(p, pick(p.name))).join(' | ')} |`);
    for (let r = 0; r < rounds; r++) row(String(r + 1), (n) => all(n)[r] as WrkResult);
    row('**median**', (n) => ({
      rps: median(all(n).map((x) => x.rps)),
      p50: median(all(n).map((x) => x.p50)),
      p99: median(all(n).map((x) => x.p99)),
      requests: 0,
      errors: 0,
      proxyCpuUs: median(all(n).map((x) => x.proxyCpuUs)),
    }));

    // Ratios per round (same moment, same load), then their median.
    const perRound = (fn: (r: number) => number) => median(Array.from({ length: rounds }, (_, r) => fn(r)));
    const at = (name: string, r: number) => all(name)[r] as WrkResult;
    const ofDirect = perRound((r) => at('router', r).rps / at('direct', r).rps);
    const p99Delta = perRound((r) => at('router', r).p99 - at('direct', r).p99);
    const p50Delta = perRound((r) => at('router', r).p50 - at('direct', r).p50);
    console.log(
      `\nrouter: ${f(ofDirect * 100, 1)} % of direct; p50 ${signed(p50Delta)} ms, p99 ${signed(p99Delta)} ms over direct ` +
        '(medians of the per-round figures)',
    );
    let ofHaproxy = Number.NaN;
    let providerOfHaproxy = Number.NaN;
    if (withHaproxy) {
      ofHaproxy = perRound((r) => at('router', r).rps / at('haproxy', r).rps);
      const hOfDirect = perRound((r) => at('haproxy', r).rps / at('direct', r).rps);
      const hP99 = perRound((r) => at('haproxy', r).p99 - at('direct', r).p99);
      if (results.has('router (baseline)'))
        console.log(
          `router (baseline): ${f(perRound((r) => at('router (baseline)', r).rps / at('haproxy', r).rps) * 100, 1)} % of HAProxy's throughput`,
        );
      console.log(
        `router: ${f(ofHaproxy * 100, 1)} % of HAProxy's throughput; HAProxy: ${f(hOfDirect * 100, 1)} % of direct, p99 ${signed(hP99)} ms`,
      );
      console.log(
        `proxy CPU per request (medians): router ${f(median(all('router').map((x) => x.proxyCpuUs)), 1)} µs, ` +
          `HAProxy ${f(median(all('haproxy').map((x) => x.proxyCpuUs)), 1)} µs, ` +
          `HAProxy provider ${f(median(all('haproxy provider').map((x) => x.proxyCpuUs)), 1)} µs (all threads)`,
      );
      providerOfHaproxy = perRound((r) => at('haproxy provider', r).rps / at('haproxy', r).rps);
      const pvP99 = perRound((r) => at('haproxy provider', r).p99 - at('haproxy', r).p99);
      console.log(
        `HAProxy provider: ${f(providerOfHaproxy * 100, 1)} % of bare HAProxy's throughput, p99 ${signed(pvP99)} ms over it`,
      );
    }
    let pacedP99Delta = Number.NaN;
    if (rate > 0) {
      const pAt = (name: string, r: number) => paced.get(name)?.[r] as Awaited<ReturnType<typeof pacedLoad>>;
      console.log(
        `\npaced at ${int(rate)} req/s (open loop, ${pacedSeconds} s per path and round, latency from each request's scheduled time):`,
      );
      console.log(`| round | ${paths.map((p) => `${p.name} p50 ms | ${p.name} p99 ms`).join(' | ')} |`);
      console.log(`| --- | ${paths.map(() => '---: | ---:').join(' | ')} |`);
      for (let r = 0; r < rounds; r++)
        console.log(
          `| ${r + 1} | ${paths.map((p) => `${f(pAt(p.name, r).p50)} | ${f(pAt(p.name, r).p99)}`).join(' | ')} |`,
        );
      pacedP99Delta = perRound((r) => pAt('router', r).p99 - pAt('direct', r).p99);
      const deltas = paths
        .filter((p) => p.name !== 'direct')
        .map((p) => `${p.name} ${signed(perRound((r) => pAt(p.name, r).p99 - pAt('direct', r).p99))} ms`);
      console.log(
        `p99 over direct at ${int(rate)} req/s (medians of the per-round figures): ${deltas.join(', ')}`,
      );
      for (const [name, xs] of figures) {
        if (xs.length === 0) continue;
        const sum = (pick: (x: ProcessFigures) => number) => xs.reduce((a, x) => a + pick(x), 0);
        console.log(
          `${name} process over the paced windows: event-loop delay p99 ${xs.map((x) => f(x.loopP99)).join(' / ')} ms, ` +
            `max ${xs.map((x) => f(x.loopMax)).join(' / ')} ms; GC ${sum((x) => x.gcCount)} pauses, ` +
            `${f(
              sum((x) => x.gcMs),
              1,
            )} ms in all, ${sum((x) => x.gcOver1ms)} over 1 ms`,
        );
      }
    }
    const pacedFailed = [...paced.values()].flat().reduce((a, x) => a + x.failed, 0);
    const errors = [...results.values()].flat().reduce((a, x) => a + x.errors, 0) + pacedFailed;
    console.log(
      `goals: router ≥ 60 % of HAProxy — ${withHaproxy ? (ofHaproxy >= 0.6 ? 'met' : 'NOT met') : 'not measured'}; ` +
        `p99 ≤ +2 ms over direct — at saturation ${p99Delta <= 2 ? 'met' : 'NOT met'}, ` +
        `${rate > 0 ? `at ${int(rate)} req/s ${pacedP99Delta <= 2 ? 'met' : 'NOT met'}` : 'no paced phase'}; ` +
        `HAProxy provider within 5 % of bare HAProxy — ${withHaproxy ? (providerOfHaproxy >= 0.95 ? 'met' : 'NOT met') : 'not measured'}; ` +
        `errors ${errors}`,
    );
    console.log(
      `reproduce: node --import tsx bench/router-overhead.ts --seconds ${seconds} --connections ${connections} ` +
        `--rounds ${rounds} --threads ${threads} --warmup ${warmup} --rate ${rate} --paced-seconds ${pacedSeconds}` +
        `${withHaproxy ? '' : ' --no-haproxy'}${values['baseline-router'] ? ` --baseline-router ${values['baseline-router']}` : ''}`,
    );
    if (errors) process.exitCode = 1;
  } finally {
    if (haproxy && haproxy.exitCode === null) {
      const exited = new Promise((r) => haproxy?.once('exit', r));
      haproxy.kill('SIGTERM');
      await Promise.race([exited, sleep(5_000)]);
      if (haproxy.exitCode === null) haproxy.kill('SIGKILL');
    }
    await provider?.stop(5_000);
    if (router) await stopRouter(router.pid);
    if (baseline && baseline.child.exitCode === null) {
      const exited = new Promise((r) => baseline?.child.once('exit', r));
      baseline.child.kill('SIGTERM');
      await Promise.race([exited, sleep(20_000)]);
      if (baseline.child.exitCode === null) baseline.child.kill('SIGKILL');
    }
    await driver.stopAll('bench');
    rmSync(dataDir, { recursive: true, force: true });
  }
}

await main();
