// The read path: `GET /api/v1/apps/qubot-one/environments` (what the dashboard and CLI poll)
// against a bare Fastify route returning the same bytes, with wrk, in interleaved rounds; then
// the same read paced at a fixed rate for its tail latency; then the other reads the dashboard
// makes. The API runs as the quick start runs it (`apps/api/src/main.ts --demo`, embedded
// PostgreSQL in a temporary directory, Qubot-One live in three environments) in a child
// process; the bare server is another child process.
//
//   node --import tsx bench/api-reads.ts [--seconds 10] [--connections 16] [--rounds 3]
//        [--rate 500] [--paced-rounds 2] [--cpu-prof <dir>] [--split]
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createRequire } from 'node:module';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { removeEmbeddedData } from '@qubot/db';
import {
  sessionCookie,
  startControlPlane,
  startWorkerProcess,
  stopControlPlane,
  waitDemoLive,
} from './control-plane.ts';
import { cpuMs, cpuSplitMs, pacedLoad, percentile } from './load.ts';

const SELF = fileURLToPath(import.meta.url);
const ROOT = join(SELF, '../..');
const PIPELINE = '/api/v1/apps/qubot-one/environments';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? (process.argv[i + 1] ?? fallback) : fallback;
}

/** Child mode: a bare Fastify app answering one route with the given bytes. */
async function bare(): Promise<void> {
  const require = createRequire(join(ROOT, 'apps/api/package.json'));
  // fastify is the API's dependency, not the bench's: load the very same copy.
  interface Reply {
    type(t: string): Reply;
    send(b: Buffer): Reply;
  }
  interface BareApp {
    get(path: string, handler: (req: unknown, reply: Reply) => Promise<Reply>): void;
    listen(o: { port: number; host: string }): Promise<string>;
    server: { address(): unknown };
    close(): Promise<void>;
  }
  const { default: Fastify } = (await import(require.resolve('fastify'))) as {
    default: (o: { logger: boolean }) => BareApp;
  };
  const body = Buffer.from(process.env.QUBOT_BENCH_BODY as string, 'base64');
  const app = Fastify({ logger: false });
  app.get(PIPELINE, async (_req, reply) => reply.type('application/json; charset=utf-8').send(body));
  await app.listen({ port: 0, host: '127.0.0.1' });
  process.stdout.write(`LISTENING ${(app.server.address() as { port: number }).port}\n`);
  process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
}

function startApi(dataDir: string, logFile: string, cpuProf: string | null, split: boolean) {
  const nodeFlags = cpuProf ? ['--cpu-prof', `--cpu-prof-dir=${cpuProf}`] : [];
  return startControlPlane({ dataDir, logFile, nodeFlags, ...(split ? { role: 'api' as const } : {}) });
}

async function startBare(
  body: Buffer,
  cpuProf: string | null,
): Promise<{ child: ChildProcess; base: string }> {
  // With --cpu-prof the bare server is profiled too (into `<dir>/bare`): the two
  // profiles side by side show what the API does beyond answering.
  const nodeFlags = cpuProf ? ['--cpu-prof', `--cpu-prof-dir=${join(cpuProf, 'bare')}`] : [];
  const child = spawn(process.execPath, [...nodeFlags, '--import', 'tsx', SELF, '--bare'], {
    cwd: ROOT,
    env: { ...process.env, QUBOT_BENCH_BODY: body.toString('base64') },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  for await (const line of lines) {
    const m = /^LISTENING (\d+)$/.exec(line);
    if (m) return { child, base: `http://127.0.0.1:${m[1]}` };
  }
  throw new Error('bare server exited before listening');
}

interface WrkResult {
  rps: number;
  p50: number;
  p99: number;
  non2xx: number;
  requests: number;
  /** CPU time (user + system) of the server process per request, µs: moves much less with the machine's load than req/s. */
  cpuUs: number;
  /** The same for the process's main thread alone, user and system apart (µs per request). */
  mainUserUs: number;
  mainSysUs: number;
}

/** wrk's own figures (`--latency` prints the percentiles). */
function wrk(url: string, seconds: number, connections: number, cookie: string, pid?: number): WrkResult {
  const cpu0 = pid ? cpuMs(pid) : Number.NaN;
  const main0 = pid ? cpuSplitMs(pid, true) : { user: Number.NaN, sys: Number.NaN };
  const out = execFileSync(
    'wrk',
    ['-t', '1', '-c', String(connections), '-d', `${seconds}s`, '--latency', '-H', `cookie: ${cookie}`, url],
    { encoding: 'utf8' },
  );
  const ms = (label: string) => {
    const m = new RegExp(`^\\s*${label}%\\s+([\\d.]+)(us|ms|s)\\s*$`, 'm').exec(out);
    if (!m) return Number.NaN;
    const v = Number(m[1]);
    return m[2] === 'us' ? v / 1000 : m[2] === 's' ? v * 1000 : v;
  };
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]);
  const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(out)?.[1] ?? 0);
  const requests = Number(/(\d+) requests in /.exec(out)?.[1]);
  const perRequest = (ms: number) => (ms * 1000) / Math.max(1, requests);
  const cpuUs = pid ? perRequest(cpuMs(pid) - cpu0) : Number.NaN;
  const main1 = pid ? cpuSplitMs(pid, true) : { user: Number.NaN, sys: Number.NaN };
  return {
    rps,
    p50: ms('50'),
    p99: ms('99'),
    non2xx,
    requests,
    cpuUs,
    mainUserUs: perRequest(main1.user - main0.user),
    mainSysUs: perRequest(main1.sys - main0.sys),
  };
}

function ensureWrk(): void {
  try {
    execFileSync('wrk', ['--version'], { stdio: 'ignore' });
  } catch (err) {
    // wrk --version exits 1 after printing; only a missing binary throws ENOENT.
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') return;
    console.log('wrk is missing: apt-get install -y wrk');
    execFileSync('apt-get', ['install', '-y', 'wrk'], { stdio: 'inherit' });
  }
}

/**
 * Waits (at most 15 s) until the process used under 15 % of a core over the last 500 ms (idle, the
 * quick start's process uses ~9 %): the garbage a wrk round left is collected before a latency
 * phase starts. Returns the ms waited.
 */
async function settle(pid: number | undefined): Promise<number> {
  const started = Date.now();
  if (!pid) return 0;
  while (Date.now() - started < 15_000) {
    const before = cpuMs(pid);
    await new Promise((r) => setTimeout(r, 500));
    if (cpuMs(pid) - before < 75) break;
  }
  return Date.now() - started;
}

const mainThread = (r: WrkResult) => `${r.mainUserUs.toFixed(1)} + ${r.mainSysUs.toFixed(1)}`;

const fmt = (n: number, d = 0) =>
  n.toLocaleString('en', { minimumFractionDigits: d, maximumFractionDigits: d });

async function main() {
  const seconds = Number(arg('seconds', '10'));
  const connections = Number(arg('connections', '16'));
  const rounds = Number(arg('rounds', '3'));
  const rate = Number(arg('rate', '500'));
  const pacedRounds = Number(arg('paced-rounds', '2'));
  const cpuProf = process.argv.includes('--cpu-prof') ? arg('cpu-prof', join(tmpdir(), 'qubot-prof')) : null;
  ensureWrk();
  const started = Date.now();
  const dir = mkdtempSync(join(tmpdir(), 'qubot-reads-'));
  const children: ChildProcess[] = [];
  try {
    // --split: the API alone in its process (`--role api`), a worker process beside it (`--role
    // worker`) running the deployments, routers and reconcile loop — the production topology.
    const split = process.argv.includes('--split');
    const api = await startApi(join(dir, 'data'), join(dir, 'api.log'), cpuProf, split);
    children.push(api.child);
    if (split)
      children.push(startWorkerProcess({ dataDir: join(dir, 'data'), logFile: join(dir, 'worker.log') }));
    const cookie = await sessionCookie(api.base, 'viewer', 'demo-viewer');
    // Wait for the demo's 1.0.0 to be live everywhere: the view then has its instances.
    const body = await waitDemoLive(api.base, cookie);
    const bareServer = await startBare(body, cpuProf);
    children.push(bareServer.child);
    console.log(
      `api-reads${split ? ' (--split: API process --role api, worker process beside it)' : ''}: ${PIPELINE} (${fmt(body.length)} bytes) vs bare Fastify, wrk -t1 -c${connections} -d${seconds}s, ${rounds} interleaved rounds; load average ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}`,
    );
    // Warm both (JIT, pools).
    wrk(`${api.base}${PIPELINE}`, 2, connections, cookie);
    wrk(`${bareServer.base}${PIPELINE}`, 2, connections, cookie);
    console.log(
      '\n| round | server | req/s | p50 ms | p99 ms | non-2xx | CPU µs/req | main thread user + sys µs/req | % of bare |',
    );
    console.log('| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
    const ratios: number[] = [];
    const cpuRatios: number[] = [];
    for (let r = 1; r <= rounds; r++) {
      const b = wrk(`${bareServer.base}${PIPELINE}`, seconds, connections, cookie, bareServer.child.pid);
      const a = wrk(`${api.base}${PIPELINE}`, seconds, connections, cookie, api.child.pid);
      const ratio = (100 * a.rps) / b.rps;
      ratios.push(ratio);
      cpuRatios.push((100 * b.cpuUs) / a.cpuUs);
      console.log(
        `| ${r} | bare Fastify | ${fmt(b.rps)} | ${b.p50.toFixed(2)} | ${b.p99.toFixed(2)} | ${b.non2xx} | ${b.cpuUs.toFixed(1)} | ${mainThread(b)} | |`,
      );
      console.log(
        `| ${r} | Qubot API | ${fmt(a.rps)} | ${a.p50.toFixed(2)} | ${a.p99.toFixed(2)} | ${a.non2xx} | ${a.cpuUs.toFixed(1)} | ${mainThread(a)} | ${ratio.toFixed(1)} % |`,
      );
    }
    ratios.sort((x, y) => x - y);
    cpuRatios.sort((x, y) => x - y);
    console.log(
      `\nmedian: Qubot API at ${percentile(ratios, 50).toFixed(1)} % of bare Fastify's req/s; ` +
        `by CPU per request (bare's ÷ the API's, all of the API process's work included) ${percentile(cpuRatios, 50).toFixed(1)} %`,
    );

    // Paced: the tail latency at a fixed rate (open loop: each request leaves on schedule), bare and
    // API alternating, the bare server first in each round: its tail is what the machine and the
    // load generator add by themselves. Each round starts once the API process has settled after
    // the previous load (its collector works off what a wrk round allocated, on both cores).
    console.log(
      `\npaced at ${rate} req/s for ${seconds} s each (after 2 s at that rate, not counted), ${pacedRounds} rounds:`,
    );
    const pacedP99: Record<string, number[]> = { 'bare Fastify': [], 'Qubot API': [] };
    for (let r = 1; r <= pacedRounds; r++) {
      const settled = await settle(api.child.pid);
      for (const [name, base] of [
        ['bare Fastify', bareServer.base],
        ['Qubot API', api.base],
      ] as const) {
        const paced = await pacedLoad(`${base}${PIPELINE}`, {
          rate,
          durationMs: seconds * 1000,
          connections,
          headers: { cookie },
        });
        pacedP99[name]?.push(paced.p99);
        console.log(
          `  round ${r}${name === 'bare Fastify' ? ` (API settled after ${fmt(settled)} ms)` : ''}: ${name}: ${fmt(paced.sent)} requests, p50 ${paced.p50.toFixed(2)} ms, p99 ${paced.p99.toFixed(2)} ms, max ${paced.max.toFixed(2)} ms, ${paced.failed} not 200 (after a 2 s warm-up at the same rate: its p99 ${paced.warmupP99.toFixed(2)} ms, ${paced.warmupFailed} not 200)`,
        );
      }
    }
    for (const [name, list] of Object.entries(pacedP99)) {
      list.sort((x, y) => x - y);
      console.log(
        `  ${name}: p99 per round ${list.map((v) => v.toFixed(2)).join(', ')} ms; median ${percentile(list, 50).toFixed(2)} ms`,
      );
    }

    // The other reads the dashboard and CLI make, one wrk round each.
    console.log('\n| read | req/s | p50 ms | p99 ms | non-2xx |');
    console.log('| --- | ---: | ---: | ---: | ---: |');
    for (const path of [
      '/api/v1/apps',
      `${PIPELINE}/production`,
      '/api/v1/deployments?app=qubot-one&limit=20',
      '/api/v1/apps/qubot-one/releases?limit=20',
      '/api/v1/auth/me',
    ]) {
      const w = wrk(`${api.base}${path}`, Math.max(3, Math.floor(seconds / 2)), connections, cookie);
      console.log(
        `| \`${path}\` | ${fmt(w.rps)} | ${w.p50.toFixed(2)} | ${w.p99.toFixed(2)} | ${w.non2xx} |`,
      );
    }
    console.log(
      `\nload average after: ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}; whole run ${((Date.now() - started) / 1000).toFixed(0)} s`,
    );
  } finally {
    for (const child of children.reverse()) await stopControlPlane({ child });
    removeEmbeddedData(dir);
  }
}

if (process.argv.includes('--bare')) await bare();
else await main();
