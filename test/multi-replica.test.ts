// The control plane replicated the way the Helm chart runs it (docs/kubernetes.md): separate
// processes — two `--role api`, two `--role worker` — started from the production build
// (`node dist/…`, no tsx), all on one external PostgreSQL (Debian's server, test/debian-postgres.ts)
// reached over TCP with a DATABASE_URL. Mid-canary under load, the API process a websocket client
// is connected to is SIGKILLed (the client reconnects to the other API process and resumes by
// cursor), then the worker driving the deployment is SIGKILLed (the other worker takes the lease
// and finishes it): 0 failed requests through the environment's router, no event missed.
//
// The workers share one runtime directory because the runtime driver here is the local one (the
// routers and instances are processes on this machine); what is proven is that the control-plane
// replicas coordinate through PostgreSQL alone.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createApi,
  createEventStream,
  createHttpClient,
  type LiveEvent,
  type NodeWebSocketClass,
  nodeConnector,
  signIn,
} from '@qubot/client';
import { createDatabase, migrate } from '@qubot/db';
import { freePort } from '@qubot/runtime';
import { Client as PgClient } from 'pg';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { seedDemoData } from '../apps/api/src/demo.ts';
import { type ExternalPostgres, startDebianPostgres } from './debian-postgres.ts';
import { startLoad } from './load.ts';

const ROOT = join(import.meta.dirname, '..');
const APP = 'qubot-one';
const ENV = 'development';
const FINAL = ['succeeded', 'failed', 'rolled_back', 'aborted'];
/** The Advisory-lock namespace of deployment leases (apps/api/src/orchestrator/lease.ts). */
const LEASE_NAMESPACE = 0x51b0;

interface Replica {
  name: string;
  role: 'api' | 'worker';
  child: ChildProcess;
  base: string;
  log: string[];
}

let pg: ExternalPostgres;
let dataDir: string;
const replicas: Replica[] = [];
const secretKey = randomBytes(32).toString('base64');

/** One control-plane process from the production build: plain node, dist/ JavaScript. */
async function startReplica(name: string, role: 'api' | 'worker'): Promise<Replica> {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    ['--conditions=qubot-dist', join(ROOT, 'apps/api/dist/main.js'), '--role', role],
    {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH ?? '',
        DATABASE_URL: pg.url,
        QUBOT_DATA_DIR: dataDir,
        QUBOT_SECRET_KEY: secretKey,
        PORT: String(port),
        LOG_LEVEL: 'warn',
        QUBOT_BACKUP_EVERY_HOURS: 'off',
        QUBOT_RESTORE_DRILL_EVERY_HOURS: 'off',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const replica: Replica = { name, role, child, base: `http://127.0.0.1:${port}`, log: [] };
  const keep = (chunk: Buffer) => {
    replica.log.push(chunk.toString());
    if (replica.log.length > 200) replica.log.shift();
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  replicas.push(replica);
  // Ready when /readyz answers 200 (the chart's readiness probe), or failed when it exits.
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (child.exitCode !== null)
      throw new Error(`${name} exited with ${child.exitCode}: ${replica.log.join('')}`);
    const ok = await fetch(`${replica.base}/readyz`).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ok) return replica;
    if (Date.now() > deadline) throw new Error(`${name} not ready: ${replica.log.join('')}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

// A replica sent SIGKILL counts as gone at once: its sockets can close before Node reports its exit,
// and a reconnect in that window must not pick it (CI 25 of 2026-12-02 failed on exactly that).
const alive = (r: Replica) => !r.child.killed && r.child.exitCode === null && r.child.signalCode === null;

function cmdline(pid: number): string {
  return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
}

async function sigkill(r: Replica) {
  const exited = new Promise((ok) => r.child.once('exit', ok));
  r.child.kill('SIGKILL');
  await exited;
}

/**
 * The worker process holding a deployment's lease: the PostgreSQL backend that holds the advisory
 * lock, its client's TCP port, and the replica owning that socket (/proc/net/tcp → socket inode →
 * /proc/<pid>/fd).
 */
async function leaseHolder(deploymentId: string): Promise<Replica | null> {
  const client = new PgClient({ connectionString: pg.url });
  await client.connect();
  try {
    const { rows } = await client.query<{ client_port: number }>(
      `SELECT a.client_port FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
        WHERE l.locktype = 'advisory' AND l.granted AND l.classid = $1
          AND l.objid = hashtext($2)::oid`,
      [LEASE_NAMESPACE, deploymentId],
    );
    const port = rows[0]?.client_port;
    if (!port) return null;
    const inodes = new Set<string>();
    for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
      for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
        const cols = line.trim().split(/\s+/);
        if (cols.length < 10) continue;
        const local = Number.parseInt(cols[1]?.split(':')[1] ?? '', 16);
        if (local === port) inodes.add(cols[9] as string);
      }
    }
    for (const r of replicas) {
      if (!alive(r)) continue;
      let fds: string[] = [];
      try {
        fds = readdirSync(`/proc/${r.child.pid}/fd`);
      } catch {
        continue; // exited meanwhile
      }
      for (const fd of fds) {
        let target = '';
        try {
          target = readlinkSync(`/proc/${r.child.pid}/fd/${fd}`);
        } catch {
          continue;
        }
        const m = /^socket:\[(\d+)\]$/.exec(target);
        if (m && inodes.has(m[1] as string)) return r;
      }
    }
    return null;
  } finally {
    await client.end();
  }
}

beforeAll(async () => {
  // The production build, rebuilt only when a package's sources changed (as `npm test` does).
  execFileSync(process.execPath, [join(ROOT, 'scripts/build-dist.mjs')], { cwd: ROOT, stdio: 'inherit' });
  pg = await startDebianPostgres();
  dataDir = mkdtempSync(join(tmpdir(), 'qubot-replicas-'));
  // The schema and the demo's application, environments and users, from the real producers.
  await migrate(pg.url);
  const db = createDatabase(pg.url, { max: 2 });
  await seedDemoData(db, pino({ level: 'silent' }));
  await db.close();
  await Promise.all([
    startReplica('api-a', 'api'),
    startReplica('api-b', 'api'),
    startReplica('worker-1', 'worker'),
    startReplica('worker-2', 'worker'),
  ]);
}, 400_000);

afterAll(async () => {
  await Promise.all(replicas.filter(alive).map(sigkill));
  // The routers and instances the workers started (detached) stop with their process groups.
  const db = pg ? createDatabase(pg.url, { max: 1 }) : null;
  if (db) {
    const rows = await db.pool.query<{ pid: number }>(
      `SELECT supervisor_pid AS pid FROM instances WHERE supervisor_pid IS NOT NULL
       UNION SELECT router_pid FROM environments WHERE router_pid IS NOT NULL`,
    );
    for (const { pid } of rows.rows) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {}
    }
    await db.close();
  }
  await pg?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
}, 60_000);

describe('[REPLICAS] two API and two worker processes from dist/ on one external PostgreSQL (Debian)', () => {
  it('every replica runs built JavaScript with plain node, and so do the routers and supervisors', async () => {
    for (const r of replicas) {
      const cmd = cmdline(r.child.pid as number);
      expect(cmd).toContain('apps/api/dist/main.js');
      expect(cmd).not.toMatch(/tsx/);
    }
  });

  it('SIGKILL of the worker driving a canary and of the API serving a websocket: 0 failed requests, the other worker finishes, the client misses no event', async () => {
    const [apiA, apiB] = replicas.filter((r) => r.role === 'api') as [Replica, Replica];
    const http = createHttpClient({ baseUrl: apiB.base });
    const { credential } = await signIn(http, {
      username: 'release-manager',
      password: 'demo-release-manager',
    });
    const api = (base: string) => createApi(createHttpClient({ baseUrl: base, credential }));
    const deploy = async (version: string, strategy: string, options: object) =>
      (
        await api(apiA.base).call('POST /api/v1/apps/:app/environments/:env/deployments', {
          params: { app: APP, env: ENV },
          body: { version, strategy, options, reason: 'multi-replica test' } as never,
        })
      ).id as string;
    const deployment = (id: string, base = apiB.base) =>
      api(base).call('GET /api/v1/deployments/:id', { params: { id } });
    const until = async (
      id: string,
      ok: (d: Awaited<ReturnType<typeof deployment>>) => boolean,
      ms: number,
    ) => {
      const deadline = Date.now() + ms;
      for (;;) {
        const d = await deployment(id);
        if (ok(d)) return d;
        if (Date.now() > deadline)
          throw new Error(`deployment ${id}: ${d.status} ${JSON.stringify(d.steps)}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    };

    // 1.0.0 goes live first (blue-green), driven by whichever worker takes it.
    const first = await deploy('1.0.0', 'blue-green', { autoSwitch: true, healthTimeoutSeconds: 30 });
    expect((await until(first, (d) => FINAL.includes(d.status), 120_000)).status).toBe('succeeded');
    const env = await api(apiB.base).call('GET /api/v1/apps/:app/environments/:env', {
      params: { app: APP, env: ENV },
    });
    const address = env.address as string;

    // The router and the supervisors were started by a worker from dist/ as well.
    const db = createDatabase(pg.url, { max: 1 });
    const { rows: routers } = await db.pool.query<{ router_pid: number }>(
      'SELECT router_pid FROM environments WHERE router_pid IS NOT NULL',
    );
    const { rows: supervisors } = await db.pool.query<{ supervisor_pid: number }>(
      `SELECT supervisor_pid FROM instances WHERE status = 'running' AND supervisor_pid IS NOT NULL`,
    );
    await db.close();
    expect(routers.length).toBeGreaterThan(0);
    expect(supervisors.length).toBeGreaterThan(0);
    for (const { router_pid } of routers) {
      expect(cmdline(router_pid)).toContain('packages/runtime/dist/router/router-main.js');
      expect(cmdline(router_pid)).not.toMatch(/tsx/);
    }
    for (const { supervisor_pid } of supervisors) {
      expect(cmdline(supervisor_pid)).toContain('packages/runtime/dist/supervisor-main.js');
      expect(cmdline(supervisor_pid)).not.toMatch(/tsx/);
    }

    // A websocket client, through "the Service": API a while it lives, then API b.
    const connectedTo: string[] = [];
    const received: LiveEvent[] = [];
    let startSeq: number | null = null;
    const headers = { cookie: `qubot_session=${credential.session}; qubot_csrf=${credential.csrf}` };
    const connect = nodeConnector(WebSocket as unknown as NodeWebSocketClass, { headers });
    const stream = createEventStream({
      url: 'chosen-per-connection',
      connect: () => {
        const target = alive(apiA) ? apiA : apiB;
        connectedTo.push(target.name);
        return connect(`${target.base.replace('http', 'ws')}/api/v1/events`);
      },
      onEvent: (e) => received.push(e),
      onSubscribed: (info) => {
        if (info.first) startSeq = info.lastSeq;
      },
      backoff: { baseMs: 50, maxMs: 500 },
      pingMs: 1_000,
      deadAfterMs: 3_000,
    });
    stream.addTopics([`application:${APP}`]);
    stream.start();
    await expect.poll(() => startSeq, { timeout: 20_000 }).not.toBeNull();

    const load = startLoad(address, { rps: 200, concurrency: 4 });
    const id = await deploy('1.1.0', 'canary', {
      steps: [25, 50],
      stepDurationSeconds: 4,
      healthTimeoutSeconds: 30,
      analysis: { minRequests: 10 },
    });

    // The client sees the deployment begin over API a; then API a is SIGKILLed.
    await expect
      .poll(() => received.some((e) => (e.data as { id?: string })?.id === id), { timeout: 30_000 })
      .toBe(true);
    expect(connectedTo).toEqual(['api-a']);
    await sigkill(apiA);

    // Mid-canary: the worker that holds the lease is SIGKILLed while traffic is shifted.
    const mid = await until(
      id,
      (d) =>
        d.steps.some((s) => s.name === 'Traffic 25%' && s.status === 'running') || FINAL.includes(d.status),
      120_000,
    );
    expect(mid.status).toBe('running');
    let holder: Replica | null = null;
    await expect
      .poll(
        async () => {
          holder = await leaseHolder(id);
          return holder?.role;
        },
        { timeout: 20_000 },
      )
      .toBe('worker');
    const killed = holder as unknown as Replica;
    await sigkill(killed);
    // Killed mid-canary: the deployment was not finished, and nobody drives it now.
    expect((await deployment(id)).status).toBe('running');
    const survivor = replicas.find((r) => r.role === 'worker' && r !== killed) as Replica;

    // The other worker takes the lease over and finishes the canary.
    const done = await until(id, (d) => FINAL.includes(d.status), 180_000);
    expect(done.status, JSON.stringify(done.steps)).toBe('succeeded');
    const byName = Object.fromEntries(done.steps.map((s) => [s.name, s.status]));
    expect(byName, JSON.stringify(done.steps)).toMatchObject({
      'Traffic 25%': 'succeeded',
      'Traffic 50%': 'succeeded',
    });
    expect(done.steps.filter((s) => s.status === 'failed')).toEqual([]);
    expect(survivor.child.exitCode).toBeNull();

    // Through the router, all along: no request failed, and 1.1.0 serves at the end.
    const after = load.mark();
    await expect.poll(() => load.since(after).requests, { timeout: 10_000 }).toBeGreaterThan(50);
    expect(Object.keys(load.since(after).versions)).toEqual(['1.1.0']);
    const report = await load.stop();
    expect(report.failed, report.errors.join(', ')).toBe(0);
    expect(report.versions['1.0.0']).toBeGreaterThan(0);

    // The websocket client reconnected to API b and received every stored event of the
    // application since it subscribed, in order, once each — including the final one.
    await expect
      .poll(
        () =>
          received.some(
            (e) =>
              e.event === 'deployment.updated' &&
              (e.data as { id: string; status: string }).id === id &&
              (e.data as { status: string }).status === 'succeeded',
          ),
        { timeout: 20_000 },
      )
      .toBe(true);
    stream.stop();
    expect(connectedTo[0]).toBe('api-a');
    expect(connectedTo.slice(1)).toContain('api-b');
    expect(connectedTo.slice(1)).not.toContain('api-a');
    const check = createDatabase(pg.url, { max: 1 });
    const application = await check.prisma.application.findFirstOrThrow({ where: { name: APP } });
    const stored = await check.prisma.event.findMany({
      where: { applicationId: application.id, seq: { gt: BigInt(startSeq as unknown as number) } },
      select: { seq: true },
      orderBy: { seq: 'asc' },
    });
    await check.close();
    const lastReceived = received[received.length - 1]?.seq as number;
    expect(received.map((e) => e.seq)).toEqual(
      stored.map((e) => Number(e.seq)).filter((s) => s <= lastReceived),
    );
    expect(received.length).toBeGreaterThan(5);
    console.log('multi-replica', {
      requests: report.requests,
      failed: report.failed,
      events: received.length,
      connections: connectedTo,
      killedWorker: killed.name,
    });
  }, 420_000);
});
