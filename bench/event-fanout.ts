// Event fan-out: time from an event's commit to its arrival at every subscribed websocket
// client, for 1 client and 1,000 clients, in one run.
//
//   node --import tsx bench/event-fanout.ts [--clients 1000] [--events 200] [--interval-ms 20]
//       [--baseline-ref <git ref>] [--rounds 2]
//
// The API server runs in a child process (as in production); this process owns the embedded
// PostgreSQL, the writer and the clients, so commit and arrival times come from one clock.
// With --baseline-ref, the API of that commit (apps/api from `git archive`, on today's packages)
// is measured too, alternating with the working tree's, round after round on the same database.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import {
  appendEvent,
  createDatabase,
  type Database,
  openDatabase,
  removeEmbeddedData,
  seedDemo,
} from '@qubot/db';
import WebSocket from 'ws';
import { sessionCookie } from './control-plane.ts';
import { percentile } from './load.ts';

const SELF = fileURLToPath(import.meta.url);
const now = () => performance.timeOrigin + performance.now();

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}
function argText(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
}

const ROOT = join(fileURLToPath(import.meta.url), '..', '..');

/** apps/api of `ref` next to today's node_modules, so its app.ts runs on today's packages. */
function extractBaseline(ref: string): string {
  const sha = execFileSync('git', ['rev-parse', '--short', ref], { cwd: ROOT }).toString().trim();
  const dir = join(ROOT, '.qubot-bench', `fanout-base-${sha}`);
  if (!existsSync(join(dir, 'apps/api/src/app.ts'))) {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const tar = execFileSync('git', ['archive', '--format=tar', sha, 'apps/api'], {
      cwd: ROOT,
      maxBuffer: 1 << 30,
    });
    execFileSync('tar', ['-x', '-C', dir], { input: tar });
    symlinkSync(join(ROOT, 'apps/api/node_modules'), join(dir, 'apps/api/node_modules'));
  }
  return join(dir, 'apps/api/src/app.ts');
}

/** Child mode: one API process on the given database. */
async function serve(): Promise<void> {
  const appModule = process.env.QUBOT_BENCH_APP || '../apps/api/src/app.ts';
  const { buildApp } = (await import(appModule)) as typeof import('../apps/api/src/app.ts');
  const db = createDatabase(process.env.QUBOT_BENCH_DB_URL as string, { max: 10 });
  // All clients sign in as one user: lift the per-user socket limit for the bench.
  const app = await buildApp({ db, events: { limits: { maxSocketsPerUser: 1_000_000 } } });
  await app.listen({ port: 0, host: '127.0.0.1' });
  // The parent asks for this process's CPU time around each scenario (robust on a busy machine).
  process.on('message', () => {
    const u = process.cpuUsage();
    process.send?.({ cpuMs: (u.user + u.system) / 1000 });
  });
  process.stdout.write(`LISTENING ${(app.server.address() as { port: number }).port}\n`);
  process.on('SIGTERM', () => {
    void app
      .close()
      .then(() => db.close())
      .then(() => process.exit(0));
  });
}

async function startServer(url: string, appModule = ''): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, ['--import', 'tsx', SELF, '--serve'], {
    env: { ...process.env, QUBOT_BENCH_DB_URL: url, QUBOT_BENCH_APP: appModule },
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  const lines = createInterface({ input: child.stdout! });
  for await (const line of lines) {
    const m = /^LISTENING (\d+)$/.exec(line);
    if (m) return { child, port: Number(m[1]) };
  }
  throw new Error('server exited before listening');
}

interface Client {
  ws: WebSocket;
  arrivals: Map<number, number>;
}

async function openClients(url: string, cookie: string, n: number): Promise<Client[]> {
  const open = async (): Promise<Client> => {
    const ws = new WebSocket(url, { headers: { cookie }, perMessageDeflate: false });
    const arrivals = new Map<number, number>();
    await new Promise<void>((resolve, reject) => {
      ws.once('error', reject);
      ws.once('open', () =>
        ws.send(JSON.stringify({ type: 'subscribe', topics: ['application:qubot-one'] })),
      );
      ws.on('message', (data) => {
        const t = now();
        const text = data.toString();
        // Only the seq is needed: read it from the fixed prefix instead of parsing the payload.
        const m = /^\{"type":"(\w+)"(?:,"seq":(\d+))?/.exec(text);
        if (m?.[1] === 'subscribed') resolve();
        else if (m?.[1] === 'event') arrivals.set(Number(m[2]), t);
      });
    });
    return { ws, arrivals };
  };
  const clients: Client[] = [];
  // Connect in waves so the handshakes do not time out on a small machine.
  for (let i = 0; i < n; i += 100) {
    const wave = await Promise.allSettled(Array.from({ length: Math.min(100, n - i) }, open));
    for (const c of wave) if (c.status === 'fulfilled') clients.push(c.value);
    const failed = wave.find((c) => c.status === 'rejected');
    if (failed) {
      // None left open behind the error: closed as at the end of a round.
      for (const c of clients) c.ws.terminate();
      throw failed.reason;
    }
  }
  return clients;
}

/** A Deployment view of realistic size (~1.5 KB), as the orchestrator sends. */
function deploymentView(i: number) {
  return {
    id: '00000000-0000-4000-8000-000000000000',
    application: 'qubot-one',
    environment: 'staging',
    release: { version: `1.${i}.0`, artifact: `builds/qubot-one-1.${i}.0` },
    status: 'running',
    strategy: 'canary',
    steps: Array.from({ length: 6 }, (_, k) => ({
      position: k,
      name: `Shift traffic to ${(k + 1) * 15}%`,
      status: k < 3 ? 'succeeded' : 'pending',
      message: k < 3 ? 'healthy: error rate 0.0%, p95 12 ms' : null,
      startedAt: new Date().toISOString(),
      finishedAt: null,
    })),
    progress: {
      instancesReady: 2,
      weights: [
        { pool: 'blue', weight: 55 },
        { pool: 'green', weight: 45 },
      ],
    },
    i,
  };
}

/** CPU time (user + system) the server process has used so far, in ms. */
function serverCpu(child: ChildProcess): Promise<number> {
  return new Promise((resolve) => {
    child.once('message', (m) => resolve((m as { cpuMs: number }).cpuMs));
    child.send('cpu');
  });
}

async function scenario(
  child: ChildProcess,
  db: Database,
  url: string,
  cookie: string,
  appId: string,
  clientsN: number,
  events: number,
  intervalMs: number,
) {
  const clients = await openClients(url, cookie, clientsN);
  const cpuBefore = await serverCpu(child);
  const committed = new Map<number, number>();
  for (let i = 0; i < events; i++) {
    const started = now();
    const ev = await appendEvent(db.prisma, {
      type: 'deployment.updated',
      applicationId: appId,
      payload: deploymentView(i),
    });
    // appendEvent is its own transaction: when it returns, the event is committed.
    committed.set(Number(ev.seq), now());
    const wait = intervalMs - (now() - started);
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }
  const last = Math.max(...committed.keys());
  const deadline = now() + 60_000;
  while (clients.some((c) => !c.arrivals.has(last)) && now() < deadline)
    await new Promise((r) => setTimeout(r, 20));
  const cpuMs = (await serverCpu(child)) - cpuBefore;

  const toEvery: number[] = [];
  const each: number[] = [];
  let missing = 0;
  for (const [seq, at] of committed) {
    let worst = 0;
    for (const c of clients) {
      const arrived = c.arrivals.get(seq);
      if (arrived === undefined) {
        missing++;
        continue;
      }
      each.push(arrived - at);
      worst = Math.max(worst, arrived - at);
    }
    toEvery.push(worst);
  }
  for (const c of clients) c.ws.terminate();
  toEvery.sort((a, b) => a - b);
  each.sort((a, b) => a - b);
  const f = (x: number) => `${x.toFixed(1)} ms`;
  return {
    server: '',
    clients: clientsN,
    events,
    deliveries: each.length,
    missing,
    'server CPU per event': `${(cpuMs / events).toFixed(2)} ms`,
    'every client p50': f(percentile(toEvery, 50)),
    'every client p99': f(percentile(toEvery, 99)),
    'each delivery p50': f(percentile(each, 50)),
    'each delivery p99': f(percentile(each, 99)),
  };
}

async function stopServer(child: ChildProcess): Promise<void> {
  child.kill('SIGTERM');
  if (child.exitCode === null) await new Promise((r) => child.once('exit', r));
}

async function main(): Promise<void> {
  const clientsN = arg('clients', 1000);
  const events = arg('events', 200);
  const intervalMs = arg('interval-ms', 20);
  const rounds = arg('rounds', 2);
  const baselineRef = argText('baseline-ref');
  // Under the working directory: the embedded server's user must be able to reach it.
  const dataDir = join(process.cwd(), '.qubot-bench', `fanout-${process.pid}`);
  removeEmbeddedData(dataDir);
  const servers: { name: string; app: string }[] = [{ name: 'this tree', app: '' }];
  if (baselineRef) servers.unshift({ name: `baseline ${baselineRef}`, app: extractBaseline(baselineRef) });
  const db = await openDatabase({ dataDir });
  let server: ChildProcess | undefined;
  try {
    await seedDemo(db.prisma, { launcher: 'true' });
    const { seedDemoUsers } = await import('../apps/api/src/services/user-service.ts');
    await seedDemoUsers(db);
    const appId = (await db.prisma.application.findUniqueOrThrow({ where: { name: 'qubot-one' } })).id;
    const load = loadavg().map((l) => l.toFixed(2));
    const rows = [];
    for (let round = 0; round < rounds; round++) {
      for (const s of servers) {
        const started = await startServer(db.url, s.app);
        server = started.child;
        const base = `http://127.0.0.1:${started.port}`;
        const cookie = await sessionCookie(base, 'viewer', 'demo-viewer');
        const url = `ws://127.0.0.1:${started.port}/api/v1/events`;
        if (round === 0)
          rows.push({
            ...(await scenario(server, db, url, cookie, appId, 1, events, intervalMs)),
            server: s.name,
          });
        rows.push({
          ...(await scenario(server, db, url, cookie, appId, clientsN, events, intervalMs)),
          server: s.name,
        });
        await stopServer(server);
        server = undefined;
      }
    }
    console.log(
      `\nEvent fan-out: commit → arrival, ${events} events every ${intervalMs} ms, ${new Date().toISOString()}`,
    );
    console.log(
      `load average at start: ${load.join(', ')}; at end: ${loadavg()
        .map((l) => l.toFixed(2))
        .join(', ')}\n`,
    );
    console.table(rows);
    console.log(
      `\nReproduce: node --import tsx bench/event-fanout.ts --clients ${clientsN} --events ${events} --interval-ms ${intervalMs} --rounds ${rounds}${baselineRef ? ` --baseline-ref ${baselineRef}` : ''}`,
    );
    if (rows.some((r) => r.missing > 0)) process.exitCode = 1;
  } finally {
    if (server) await stopServer(server);
    await db.shutdown();
    removeEmbeddedData(dataDir);
  }
}

if (process.argv.includes('--serve')) await serve();
else await main();
