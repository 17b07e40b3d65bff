// Test fixture: an instance that can be told to eat memory or CPU (resource limit tests).
//   GET /healthz            200
//   GET /                   200, its version in the header named by VERSION_HEADER (default x-app-version)
//   GET /alloc?mb=N         keeps N MiB (touched, so really resident), then answers
//   GET /alloc?mb=N&sticky=1  the same, and every later start of this instance does it again at once
//                           (a leak that survives restarts: the instance stays down, OOM after OOM)
//   GET /burn?ms=N          spins for N ms of wall-clock time; answers the CPU time it got, ms
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const port = Number(process.env.PORT);
const held = [];
const stickyFile = join(tmpdir(), `qubot-hog-${process.env.QUBOT_INSTANCE_ID ?? 'x'}.sticky`);
const alloc = (mb) => {
  for (let i = 0; i < mb; i++) held.push(Buffer.alloc(1024 * 1024, 1));
};
if (existsSync(stickyFile)) alloc(Number(readFileSync(stickyFile, 'utf8')));
createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://x');
  if (url.pathname === '/alloc') {
    const mb = Number(url.searchParams.get('mb') ?? '0');
    if (url.searchParams.get('sticky')) writeFileSync(stickyFile, String(mb));
    alloc(mb);
    res.end(JSON.stringify({ heldMb: held.length }));
    return;
  }
  if (url.pathname === '/burn') {
    const ms = Number(url.searchParams.get('ms') ?? '1000');
    const cpu0 = process.cpuUsage();
    const until = Date.now() + ms;
    let x = 0;
    while (Date.now() < until) x += Math.sqrt(x + 1);
    const used = process.cpuUsage(cpu0);
    res.end(JSON.stringify({ wallMs: ms, cpuMs: (used.user + used.system) / 1000, x: x > 0 }));
    return;
  }
  res.setHeader(process.env.VERSION_HEADER ?? 'x-app-version', process.env.QUBOT_VERSION ?? '');
  res.end('ok');
}).listen(port, process.env.HOST ?? '127.0.0.1');
process.on('SIGTERM', () => process.exit(0));
