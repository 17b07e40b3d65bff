// Start time and memory of the two processes the control plane spawns most — a traffic router and an
// instance supervisor — run the development way (TypeScript through the tsx loader) and the
// production way (`pnpm build` → dist/, plain node with the qubot-dist condition), the two
// alternated run by run. Start time: spawn → the router's "listening" log line / the supervisor's
// status file saying its instance runs (`sleep`, so the instance costs nothing). Memory: the
// process's RSS (VmRSS) once ready and again 1 s later. Prints medians and the ratio dist/tsx.
//
//   node --import tsx bench/build-startup.ts [--runs 15]
//
// Needs the production build first (`pnpm build`, or `node scripts/build-dist.mjs`).
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { freePort, tsxLoader } from '@qubot/runtime';

const ROOT = resolve(import.meta.dirname, '..');
const RUNTIME = join(ROOT, 'packages/runtime');
const { values } = parseArgs({ options: { runs: { type: 'string', default: '15' } } });
const RUNS = Number(values.runs);

type Mode = 'tsx' | 'dist';
const MODES: Mode[] = ['tsx', 'dist'];
const entry = (mode: Mode, name: string) =>
  mode === 'tsx'
    ? ['--import', tsxLoader(), join(RUNTIME, 'src', `${name}.ts`)]
    : ['--conditions=qubot-dist', join(RUNTIME, 'dist', `${name}.js`)];

function rssMiB(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('VmRSS:'));
  return Number(line?.split(/\s+/)[1]) / 1024;
}

interface Sample {
  startMs: number;
  rssReady: number;
  rssSettled: number;
}

async function stop(child: ChildProcess) {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  try {
    process.kill(-(child.pid as number), 'SIGKILL');
  } catch {}
  await exited;
}

async function measure(child: ChildProcess, ready: Promise<void>, t0: number): Promise<Sample> {
  await ready;
  const startMs = performance.now() - t0;
  const rssReady = rssMiB(child.pid as number);
  await sleep(1_000);
  const rssSettled = rssMiB(child.pid as number);
  await stop(child);
  return { startMs, rssReady, rssSettled };
}

async function router(mode: Mode, dir: string): Promise<Sample> {
  const [port, controlPort] = [await freePort(), await freePort()];
  const t0 = performance.now();
  const child = spawn(process.execPath, entry(mode, 'router/router-main'), {
    cwd: dir,
    env: {
      PATH: process.env.PATH ?? '',
      QUBOT_ROUTER_PORT: String(port),
      QUBOT_ROUTER_CONTROL_PORT: String(controlPort),
      QUBOT_ROUTER_SECRET: randomBytes(16).toString('hex'),
      QUBOT_ROUTER_STATE_FILE: join(dir, `router-${port}.json`),
    },
    detached: true,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const ready = new Promise<void>((ok, fail) => {
    let out = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('"msg":"listening"')) ok();
    });
    child.once('exit', (code) => fail(new Error(`router exited with ${code}: ${out}`)));
  });
  return measure(child, ready, t0);
}

async function supervisor(mode: Mode, dir: string, n: number): Promise<Sample> {
  const id = `bench-${mode}-${n}`;
  const statusPath = join(dir, `${id}.status.json`);
  const specPath = join(dir, `${id}.spec.json`);
  writeFileSync(
    specPath,
    JSON.stringify({
      id,
      command: 'sleep',
      args: ['60'],
      cwd: dir,
      env: {},
      logPath: join(dir, `${id}.log`),
      statusPath,
      stopTimeoutMs: 1_000,
      backoff: { initialMs: 100, maxMs: 1_000, resetAfterMs: 10_000 },
      maxRestarts: 0,
      maxLogBytes: 1_000_000,
    }),
  );
  const t0 = performance.now();
  const child = spawn(process.execPath, [...entry(mode, 'supervisor-main'), specPath], {
    cwd: dir,
    env: { PATH: process.env.PATH ?? '' },
    detached: true,
    stdio: 'ignore',
  });
  // The supervisor writes its status file when its instance runs; polled every 2 ms.
  const ready = (async () => {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`supervisor exited with ${child.exitCode}`);
      if (existsSync(statusPath)) {
        try {
          const st = JSON.parse(readFileSync(statusPath, 'utf8')) as { state: string; pid: number | null };
          if (st.state === 'running' && st.pid) return;
        } catch {}
      }
      await sleep(2);
    }
  })();
  return measure(child, ready, t0);
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};

async function main() {
  for (const name of ['router/router-main', 'supervisor-main'])
    if (!existsSync(join(RUNTIME, 'dist', `${name}.js`)))
      throw new Error(`packages/runtime/dist/${name}.js is missing: run pnpm build first`);
  const dir = mkdtempSync(join(tmpdir(), 'qubot-bench-startup-'));
  const load = loadavg()[0]?.toFixed(2);
  const results: Record<string, Record<Mode, Sample[]>> = {
    router: { tsx: [], dist: [] },
    supervisor: { tsx: [], dist: [] },
  };
  try {
    // One warm-up of each (the OS file cache), not counted.
    for (const mode of MODES) {
      await router(mode, dir);
      await supervisor(mode, dir, -1);
    }
    for (let i = 0; i < RUNS; i++) {
      for (const mode of i % 2 ? [...MODES].reverse() : MODES) {
        results.router?.[mode].push(await router(mode, dir));
        results.supervisor?.[mode].push(await supervisor(mode, dir, i));
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(
    `\n${RUNS} runs each, medians; load average ${load} at start, ${loadavg()[0]?.toFixed(2)} at end\n`,
  );
  console.log('| process    | mode | start (ms) | RSS ready (MiB) | RSS +1 s (MiB) |');
  console.log('| ---------- | ---- | ---------: | --------------: | -------------: |');
  for (const [proc, byMode] of Object.entries(results))
    for (const mode of MODES) {
      const s = byMode[mode];
      console.log(
        `| ${proc.padEnd(10)} | ${mode.padEnd(4)} | ${median(s.map((x) => x.startMs)).toFixed(0)} | ${median(s.map((x) => x.rssReady)).toFixed(1)} | ${median(s.map((x) => x.rssSettled)).toFixed(1)} |`,
      );
    }
  console.log('\nratio dist / tsx (lower is better):');
  for (const [proc, byMode] of Object.entries(results)) {
    const r = (f: (x: Sample) => number) =>
      (median(byMode.dist.map(f)) / median(byMode.tsx.map(f))).toFixed(2);
    console.log(
      `  ${proc}: start ${r((x) => x.startMs)}, RSS ready ${r((x) => x.rssReady)}, RSS +1 s ${r((x) => x.rssSettled)}`,
    );
  }
  console.log(`\nreproduce: node --import tsx bench/build-startup.ts --runs ${RUNS}`);
}

await main();
