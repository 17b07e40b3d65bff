// throwaway: perf record the API main thread and the bare server's during wrk
import { execFileSync, spawn, execSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { sessionCookie, startControlPlane, stopControlPlane, waitDemoLive, ROOT } from './control-plane.ts';
const P = '/api/v1/apps/qubot-one/environments';
const dir = mkdtempSync(join(tmpdir(), 'perfread-'));
const api = await startControlPlane({ dataDir: join(dir, 'data'), logFile: join(dir, 'api.log'), nodeFlags: ['--perf-basic-prof-only-functions'] });
const cookie = await sessionCookie(api.base, 'viewer', 'demo-viewer');
const body = await waitDemoLive(api.base, cookie);
const bare = spawn(process.execPath, ['--perf-basic-prof-only-functions', '--import', 'tsx', join(ROOT, 'bench/api-reads.ts'), '--bare'], { cwd: ROOT, env: { ...process.env, QUBOT_BENCH_BODY: body.toString('base64') }, stdio: ['ignore', 'pipe', 'inherit'] });
let bareBase = '';
for await (const line of createInterface({ input: bare.stdout! })) { const m = /^LISTENING (\d+)$/.exec(line); if (m) { bareBase = `http://127.0.0.1:${m[1]}`; break; } }
const wrk = (url: string, s: number) => execFileSync('wrk', ['-t1', '-c16', `-d${s}s`, '-H', `cookie: ${cookie}`, url], { encoding: 'utf8' }).match(/Requests\/sec:\s+([\d.]+)/)?.[1];
wrk(api.base + P, 3); wrk(bareBase + P, 3);
for (const [name, base, pid] of [['api', api.base, api.child.pid], ['bare', bareBase, bare.pid]] as const) {
  const rec = spawn('perf', ['record', '-e', 'cpu-clock', '-F', '2000', '-g', '-t', String(pid), '-o', `/tmp/b/perf-${name}.data`, '--', 'sleep', '8'], { stdio: 'ignore' });
  const rps = wrk(base + P, 8);
  await new Promise((r) => rec.on('exit', r));
  console.log(name, rps, 'req/s');
}
bare.kill('SIGTERM');
await stopControlPlane(api);
