// The read path, before and after a change: two control planes side by side — this checkout and
// another one (e.g. `git worktree add --detach /tmp/qubot-base main`, then `pnpm install` and
// `pnpm --filter @qubot/db run generate` there) — each in the quick start's one-process layout
// (`main.ts --demo`, its own embedded PostgreSQL), their idle CPU measured over the same seconds,
// then `GET /api/v1/apps/qubot-one/environments` under wrk, the two alternating for several
// rounds with the order swapped each round. On a machine shared with other work, req/s moves by 2×
// between runs and even the order within a round matters; the CPU time per request and the
// means over both orders are what compare. Then `--paced-rounds` rounds of the same read paced at
// `--rate` req/s (open loop, after 2 s at that rate not counted), the two alternating the same
// way: the tail latency of a steady stream, each side's p99 and its answers over 10 ms.
//
//   node --import tsx bench/api-reads-ab.ts --base <checkout> [--rounds 8] [--seconds 4]
//        [--connections 16] [--paced-rounds 0] [--rate 500]
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { removeEmbeddedData } from '@qubot/db';
import {
  type ControlPlane,
  ROOT,
  sessionCookie,
  startControlPlanes,
  stopControlPlane,
  waitDemoLive,
} from './control-plane.ts';
import { cpuMs, pacedLoad, percentile } from './load.ts';

const { values } = parseArgs({
  options: {
    base: { type: 'string' },
    rounds: { type: 'string', default: '8' },
    seconds: { type: 'string', default: '4' },
    connections: { type: 'string', default: '16' },
    'paced-rounds': { type: 'string', default: '0' },
    rate: { type: 'string', default: '500' },
  },
});
if (!values.base) throw new Error('--base <checkout>: the other checkout to compare with (see the header)');
const rounds = Number(values.rounds);
const seconds = Number(values.seconds);
const connections = Number(values.connections);
const pacedRounds = Number(values['paced-rounds']);
const rate = Number(values.rate);
const PIPELINE = '/api/v1/apps/qubot-one/environments';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');

interface Side {
  name: 'base' | 'this';
  pid: number;
  base: string;
  cookie: string;
}

function wrk(s: Side, secs: number) {
  const cpu0 = cpuMs(s.pid);
  const out = execFileSync(
    'wrk',
    ['-t1', `-c${connections}`, `-d${secs}s`, '-H', `cookie: ${s.cookie}`, `${s.base}${PIPELINE}`],
    { encoding: 'utf8' },
  );
  const requests = Number(/(\d+) requests in /.exec(out)?.[1]);
  return {
    rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]),
    cpuUs: ((cpuMs(s.pid) - cpu0) * 1000) / Math.max(1, requests),
  };
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const dir = mkdtempSync(join(tmpdir(), 'qubot-reads-ab-'));
const names = ['base', 'this'] as const;
let planes: { name: (typeof names)[number]; cp: ControlPlane }[] = [];
try {
  // Both at once; if one fails to start, the other is stopped before the error is thrown.
  const started = await startControlPlanes(
    names.map((name) => ({
      dataDir: join(dir, name, 'data'),
      logFile: join(dir, `${name}.log`),
      root: name === 'base' ? values.base : ROOT,
    })),
  );
  planes = names.map((name, i) => ({ name, cp: started[i] as ControlPlane }));
  const sides: Side[] = [];
  for (const { name, cp } of planes) {
    const cookie = await sessionCookie(cp.base, 'viewer', 'demo-viewer');
    await waitDemoLive(cp.base, cookie);
    sides.push({ name, pid: cp.child.pid as number, base: cp.base, cookie });
  }
  console.log(`api-reads-ab: ${PIPELINE}, base ${values.base} vs this checkout; load average ${load()}`);
  for (const s of sides) wrk(s, 2);
  const idle0 = sides.map((s) => cpuMs(s.pid));
  await sleep(8_000);
  const idle = sides.map((s, i) => (cpuMs(s.pid) - (idle0[i] as number)) / 8);
  console.log(`idle CPU, same 8 s: base ${idle[0]?.toFixed(1)} ms/s, this ${idle[1]?.toFixed(1)} ms/s\n`);
  console.log('| round | first | base req/s | base CPU µs/req | this req/s | this CPU µs/req |');
  console.log('| ---: | --- | ---: | ---: | ---: | ---: |');
  const all = { base: [] as { rps: number; cpuUs: number }[], this: [] as { rps: number; cpuUs: number }[] };
  for (let r = 1; r <= rounds; r++) {
    const order = r % 2 ? sides : [...sides].reverse();
    const got: Record<string, { rps: number; cpuUs: number }> = {};
    for (const s of order) got[s.name] = wrk(s, seconds);
    const b = got.base as { rps: number; cpuUs: number };
    const t = got.this as { rps: number; cpuUs: number };
    all.base.push(b);
    all.this.push(t);
    console.log(
      `| ${r} | ${order[0]?.name} | ${b.rps.toFixed(0)} | ${b.cpuUs.toFixed(1)} | ${t.rps.toFixed(0)} | ${t.cpuUs.toFixed(1)} |`,
    );
  }
  const [bRps, tRps] = [mean(all.base.map((x) => x.rps)), mean(all.this.map((x) => x.rps))];
  const [bCpu, tCpu] = [mean(all.base.map((x) => x.cpuUs)), mean(all.this.map((x) => x.cpuUs))];
  console.log(
    `\nmeans over ${rounds} rounds: base ${bRps.toFixed(0)} req/s, ${bCpu.toFixed(1)} µs CPU/req; ` +
      `this ${tRps.toFixed(0)} req/s (${((100 * tRps) / bRps - 100).toFixed(1)} %), ${tCpu.toFixed(1)} µs CPU/req ` +
      `(${((100 * tCpu) / bCpu - 100).toFixed(1)} %); load average after ${load()}`,
  );
  if (pacedRounds > 0) {
    console.log(`\npaced at ${rate} req/s, ${seconds} s each after 2 s not counted, ${pacedRounds} rounds:`);
    console.log(
      '| round | first | base p99 ms | base max ms | base over 10 ms | this p99 ms | this max ms | this over 10 ms |',
    );
    console.log('| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |');
    const p99s = { base: [] as number[], this: [] as number[] };
    for (let r = 1; r <= pacedRounds; r++) {
      const order = r % 2 ? sides : [...sides].reverse();
      const got: Record<string, Awaited<ReturnType<typeof pacedLoad>>> = {};
      for (const s of order)
        got[s.name] = await pacedLoad(`${s.base}${PIPELINE}`, {
          rate,
          durationMs: seconds * 1000,
          connections,
          headers: { cookie: s.cookie },
        });
      const row = (x: Awaited<ReturnType<typeof pacedLoad>>) =>
        `${x.p99.toFixed(2)} | ${x.max.toFixed(2)} | ${x.over10ms} of ${x.sent}${x.failed ? ` (${x.failed} failed)` : ''}`;
      const [b, t] = [got.base, got.this] as Awaited<ReturnType<typeof pacedLoad>>[];
      if (!b || !t) throw new Error('a paced round did not run');
      p99s.base.push(b.p99);
      p99s.this.push(t.p99);
      console.log(`| ${r} | ${order[0]?.name} | ${row(b)} | ${row(t)} |`);
    }
    const median = (xs: number[]) =>
      percentile(
        [...xs].sort((x, y) => x - y),
        50,
      );
    console.log(
      `\npaced p99, median of ${pacedRounds} rounds: base ${median(p99s.base).toFixed(2)} ms, this ${median(p99s.this).toFixed(2)} ms`,
    );
  }
} finally {
  await Promise.all(planes.map(({ cp }) => stopControlPlane(cp)));
  removeEmbeddedData(dir);
}
