// The HAProxy traffic provider against a real haproxy (Debian's 2.6 at /usr/sbin/haproxy) and real
// HTTP upstreams on 127.0.0.1. Skipped, and saying so, only where haproxy is not installed.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, isAlive, waitForExit } from '../proc.ts';
import type { PoolConfig } from '../router/config.ts';
import { splitMapLines } from './config.ts';
import { HAPROXY_BIN, HaproxyProvider } from './haproxy-provider.ts';

const HAVE_HAPROXY = existsSync(HAPROXY_BIN);
if (!HAVE_HAPROXY)
  console.warn(`HAProxy provider tests skipped: ${HAPROXY_BIN} is missing (apt-get install haproxy)`);

type Mode = 'ok' | '500' | 'reset';
interface Upstream {
  id: string;
  version: string;
  target: string;
  server: Server;
  /** Requests to `/hold` waiting for `release()`. */
  held: ServerResponse[];
  onHeld: (() => void) | null;
  /** Requests received, by method (health checks left out). */
  received: Record<string, number>;
}

const upstreams: Upstream[] = [];

/** A small upstream: its version and id in every answer, `/healthz` 200, `/hold` answered on release. */
async function upstream(id: string, version: string, mode: Mode = 'ok'): Promise<Upstream> {
  const u: Upstream = {
    id,
    version,
    target: '',
    server: createServer(),
    held: [],
    onHeld: null,
    received: {},
  };
  u.server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    res.setHeader('x-version', version);
    res.setHeader('x-instance', id);
    if (req.url === '/healthz') return res.end('ok');
    const method = req.method ?? '';
    u.received[method] = (u.received[method] ?? 0) + 1;
    if (req.url === '/hold') {
      u.held.push(res);
      u.onHeld?.();
      return;
    }
    if (mode === 'reset') return req.socket.destroy();
    res.statusCode = mode === '500' ? 500 : 200;
    res.end(version);
  });
  await new Promise<void>((ok) => u.server.listen(0, '127.0.0.1', ok));
  u.target = `127.0.0.1:${(u.server.address() as AddressInfo).port}`;
  upstreams.push(u);
  return u;
}

const pool = (name: string, weight: number, members: Upstream[]): PoolConfig => ({
  name,
  version: members[0]?.version ?? 'none',
  weight,
  targets: members.map((m) => m.target),
});

const root = mkdtempSync(join(tmpdir(), 'qubot-haproxy-'));
// Deep, as a data directory inside a checkout is: its admin.sock would not fit a unix socket
// address, so every test here also runs with the socket moved to its short path.
const dir = join(root, 'checkout', '.qubot-test', 'e2e-data-12345', 'runtime', 'hap', 'e'.repeat(32));
// Client keep-alive like a browser, and enough sockets that the load is not queued client-side.
const client = new Agent({ connections: 32 });
let provider: HaproxyProvider;
const pids = new Set<number>();
let blue1: Upstream;
let blue2: Upstream;
let green1: Upstream;
let green2: Upstream;
let faulty: Upstream;
let broken: Upstream;

interface Answer {
  status: number;
  pool: string;
  version: string;
  instance: string;
  error: string | null;
  startedAt: number;
  endedAt: number;
}

async function get(path = '/', method: 'GET' | 'POST' = 'GET', dispatcher: Agent = client): Promise<Answer> {
  const startedAt = performance.now();
  try {
    const res = await request(`${provider.address}${path}`, {
      dispatcher,
      method,
      ...(method === 'POST' ? { body: '{}' } : {}),
    });
    await res.body.text();
    const h = res.headers;
    return {
      status: res.statusCode,
      pool: String(h['x-qubot-pool'] ?? ''),
      version: String(h['x-version'] ?? ''),
      instance: String(h['x-instance'] ?? ''),
      error: null,
      startedAt,
      endedAt: performance.now(),
    };
  } catch (err) {
    const endedAt = performance.now();
    return { status: 0, pool: '', version: '', instance: '', error: String(err), startedAt, endedAt };
  }
}

/** `n` requests, `concurrency` at a time. */
async function burst(n: number, concurrency = 16): Promise<Answer[]> {
  const out: Answer[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) {
        next++;
        out.push(await get());
      }
    }),
  );
  return out;
}

/**
 * Continuous load until `stop()` (bounded: 20 s at most). `reached(n)` resolves once `n` answers
 * have come back, so the test acts under load without sleeping.
 */
function load(concurrency = 8) {
  const answers: Answer[] = [];
  const waiters: { n: number; ok: () => void }[] = [];
  let stopped = false;
  const deadline = performance.now() + 20_000;
  const done = Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (!stopped && performance.now() < deadline) {
        answers.push(await get());
        for (const w of waiters.filter((x) => answers.length >= x.n)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.ok();
        }
      }
    }),
  );
  return {
    answers,
    reached: (n: number) =>
      answers.length >= n ? Promise.resolve() : new Promise<void>((ok) => waiters.push({ n, ok })),
    stop: async () => {
      stopped = true;
      await done;
      for (const w of waiters) w.ok();
      return answers;
    },
  };
}

const failed = (answers: Answer[]) => answers.filter((a) => a.error !== null || a.status !== 200);

/** `burst(n, concurrency)`, every request answered 200. */
async function served(n: number, concurrency: number): Promise<Answer[]> {
  const answers = await burst(n, concurrency);
  expect(failed(answers)).toEqual([]);
  return answers;
}

describe.skipIf(!HAVE_HAPROXY)(`HAProxy traffic provider (${HAPROXY_BIN})`, () => {
  beforeAll(async () => {
    [blue1, blue2, green1, green2, faulty, broken] = await Promise.all([
      upstream('blue-1', '1.0.0'),
      upstream('blue-2', '1.0.0'),
      upstream('green-1', '2.0.0'),
      upstream('green-2', '2.0.0'),
      upstream('faulty-1', '2.0.0-faulty', '500'),
      upstream('broken-1', '2.0.0-broken', 'reset'),
    ]);
    provider = new HaproxyProvider({ dir, port: await freePort(), checkIntervalMs: 500 });
    const proc = await provider.start();
    pids.add(proc.pid);
  }, 30_000);

  afterAll(async () => {
    await provider?.stop(5_000);
    for (const pid of pids) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
    await client.close();
    for (const u of upstreams) {
      for (const res of u.held) res.end();
      u.server.closeAllConnections();
      await new Promise((ok) => u.server.close(ok));
    }
    rmSync(root, { recursive: true, force: true });
  }, 30_000);

  it('answers 503 with no pool, then routes to blue; HAProxy checks every target', async () => {
    const none = await get();
    expect(none.status).toBe(503);
    expect(none.pool).toBe('none');

    const state = await provider.setConfig({ pools: [pool('blue', 100, [blue1, blue2])] });
    expect(state.revision).toBe(1);
    const answers = await burst(40, 4);
    expect(failed(answers)).toEqual([]);
    expect(new Set(answers.map((a) => a.version))).toEqual(new Set(['1.0.0']));
    expect(new Set(answers.map((a) => a.instance))).toEqual(new Set(['blue-1', 'blue-2']));
    expect(answers.every((a) => a.pool === 'blue')).toBe(true);

    const health = await provider.health();
    expect(health).toMatchObject({ ok: true, pid: provider.pid, revision: 1 });
    expect(health.targets).toEqual(
      expect.arrayContaining([
        { pool: 'blue', target: blue1.target, state: 'ready', up: true, check: 'L7OK' },
        { pool: 'blue', target: blue2.target, state: 'ready', up: true, check: 'L7OK' },
      ]),
    );
    expect(await provider.getConfig()).toMatchObject({
      revision: 1,
      pools: [pool('blue', 100, [blue1, blue2])],
    });
  });

  it('switches blue → green under load: no failed request, no old answer after the first new one', async () => {
    // The new colour routed at weight 0 first, as the orchestrator does once it is healthy.
    await provider.setConfig({
      pools: [pool('blue', 100, [blue1, blue2]), pool('green', 0, [green1, green2])],
    });
    const l = load(8);
    await l.reached(300);
    await provider.setConfig({
      pools: [pool('blue', 0, [blue1, blue2]), pool('green', 100, [green1, green2])],
    });
    const switchedAt = performance.now();
    const afterSwitch = l.answers.length;
    await l.reached(afterSwitch + 300);
    const answers = await l.stop();

    expect(failed(answers)).toEqual([]);
    const firstNew = Math.min(...answers.filter((a) => a.version === '2.0.0').map((a) => a.endedAt));
    // A request sent once a new version has answered never reaches the old one.
    expect(answers.filter((a) => a.startedAt > firstNew && a.version !== '2.0.0')).toEqual([]);
    expect(answers.filter((a) => a.version === '1.0.0').length).toBeGreaterThanOrEqual(300);
    expect(answers.filter((a) => a.startedAt > switchedAt).length).toBeGreaterThan(200);
    expect(await provider.waitDrained([blue1.target, blue2.target], 5_000)).toBe(true);
  }, 30_000);

  it('splits a 90/10 canary by weight over 2,000 requests', async () => {
    await provider.setConfig({ pools: [pool('blue', 90, [blue1, blue2]), pool('green', 10, [green1])] });
    const answers = await burst(2_000);
    expect(failed(answers)).toEqual([]);
    const share = answers.filter((a) => a.pool === 'green').length / answers.length;
    // 10 % with a standard deviation of 0.67 % over 2,000 draws: ±2.5 % is beyond 3.5 sigma.
    expect(share).toBeGreaterThan(0.075);
    expect(share).toBeLessThan(0.125);
    expect(answers.filter((a) => a.pool === 'green').every((a) => a.instance === 'green-1')).toBe(true);
  }, 30_000);

  it('drains a target taken out of the table before parking it', async () => {
    await provider.setConfig({ pools: [pool('blue', 100, [blue1])] });
    const heldNow = new Promise<void>((ok) => {
      blue1.onHeld = ok;
    });
    const slow = get('/hold');
    await heldNow;
    blue1.onHeld = null;

    // blue-1 leaves the table with a request still on it; blue-2 takes the new ones.
    await provider.setConfig({ pools: [pool('blue', 100, [blue2])] });
    const during = await burst(30, 4);
    expect(failed(during)).toEqual([]);
    expect(new Set(during.map((a) => a.instance))).toEqual(new Set(['blue-2']));
    const draining = (await provider.health()).targets?.find((t) => t.target === blue1.target);
    expect(draining).toMatchObject({ pool: 'blue', state: 'drain' });
    expect(await provider.waitDrained([blue1.target], 300)).toBe(false);

    const drained = provider.waitDrained([blue1.target], 10_000);
    blue1.held.shift()?.end('released');
    const answer = await slow;
    expect(answer).toMatchObject({ status: 200, instance: 'blue-1', error: null });
    expect(await drained).toBe(true);
    // Parked: no longer held by any slot.
    const targets = (await provider.health()).targets ?? [];
    expect(targets.map((t) => t.target)).not.toContain(blue1.target);
    expect(targets).toContainEqual({
      pool: 'blue',
      target: blue2.target,
      state: 'ready',
      up: true,
      check: 'L7OK',
    });
  }, 30_000);

  it('counts requests and errors per pool as HAProxy saw them', async () => {
    await provider.setConfig({ pools: [pool('blue', 60, [blue2]), pool('green', 40, [faulty, broken])] });
    const before = await provider.totals();
    const answers = await burst(400, 8);
    const after = await provider.totals();
    const sent = (p: string) => answers.filter((a) => a.pool === p);
    expect(answers.every((a) => a.error === null)).toBe(true);
    expect(sent('blue').length + sent('green').length).toBe(400);
    expect(sent('blue').every((a) => a.status === 200)).toBe(true);
    // The faulty upstream answers 500; the broken one resets the connection (HAProxy answers 502
    // when its retry fails too).
    expect(sent('green').every((a) => a.status >= 500)).toBe(true);
    const delta = (p: 'blue' | 'green', k: 'requests' | 'errors') =>
      (after.pools[p]?.[k] ?? 0) - (before.pools[p]?.[k] ?? 0);
    expect(delta('blue', 'requests')).toBe(sent('blue').length);
    expect(delta('blue', 'errors')).toBe(0);
    expect(delta('green', 'requests')).toBe(sent('green').length);
    expect(delta('green', 'errors')).toBe(sent('green').length);
    expect(after.requests - before.requests).toBe(400);
    expect(after.errors - before.errors).toBe(sent('green').length);
  }, 30_000);

  it('sends again a GET the upstream dropped unanswered, never a POST', async () => {
    await provider.setConfig({ pools: [pool('green', 100, [broken])] });
    broken.received = {};
    // A fresh client connection each: on a reused one HAProxy closes it instead of answering 502,
    // so that the client may retry (its behaviour, not this provider's).
    const fresh = async (method: 'GET' | 'POST') => {
      const agent = new Agent();
      try {
        return await get('/', method, agent);
      } finally {
        await agent.close();
      }
    };
    expect(await fresh('GET')).toMatchObject({ status: 502, error: null });
    // `retries 2`: the first attempt and two more.
    expect(broken.received.GET).toBe(3);
    expect(await fresh('POST')).toMatchObject({ status: 502, error: null });
    expect(broken.received.POST).toBe(1);
  });

  /** The route map's entry in the running HAProxy: the pool taking every request, or `split`. */
  const route = async () =>
    /\ball (\S+)/.exec(await provider.admin.send(`show map ${provider.files.route}`))?.[1];

  it('sends every request to the one pool with all the weight without reading the split map', async () => {
    await provider.setConfig({ pools: [pool('blue', 100, [blue1, blue2]), pool('green', 0, [green1])] });
    expect(await route()).toBe('pool_blue');
    expect(readFileSync(provider.files.route, 'utf8')).toBe('all pool_blue\n');
    // The split map emptied behind the provider's back: a request drawn in it would get the 503 of
    // `no_pool`; with one pool at 100 % none is.
    await provider.admin.run(`clear map ${provider.files.map}`);
    const answers = await served(100, 8);
    expect(answers.every((a) => a.pool === 'blue')).toBe(true);

    // A canary goes back to the per-request draw (the split map refilled in one commit).
    await provider.setConfig({ pools: [pool('blue', 50, [blue1, blue2]), pool('green', 50, [green1])] });
    expect(await route()).toBe('split');
    const split = await served(200, 8);
    expect(new Set(split.map((a) => a.pool))).toEqual(new Set(['blue', 'green']));
  }, 30_000);

  it('canary → 100 % and back under load: no failed request; between the two, green only', async () => {
    const l = load(8);
    await l.reached(l.answers.length + 200);
    await provider.setConfig({ pools: [pool('blue', 0, [blue1, blue2]), pool('green', 100, [green1])] });
    const switchedAt = performance.now();
    await l.reached(l.answers.length + 200);
    const backAt = performance.now();
    await provider.setConfig({ pools: [pool('blue', 10, [blue1, blue2]), pool('green', 90, [green1])] });
    await l.reached(l.answers.length + 200);
    const answers = await l.stop();
    expect(failed(answers)).toEqual([]);
    expect(await route()).toBe('split');
    const between = answers.filter((a) => a.startedAt > switchedAt && a.endedAt < backAt);
    expect(between.length).toBeGreaterThanOrEqual(100);
    expect(between.filter((a) => a.pool !== 'green')).toEqual([]);
  }, 30_000);

  it('concurrent changes: each applied whole, in order; the saved table is the one served', async () => {
    const tables = [
      [pool('blue', 100, [blue1]), pool('green', 0, [green1])],
      [pool('blue', 30, [blue1]), pool('green', 70, [green1])],
      [pool('blue', 0, [blue1]), pool('green', 100, [green1, green2])],
    ];
    const before = (await provider.getConfig()).revision;
    const states = await Promise.all(tables.map((pools) => provider.setConfig({ pools })));
    expect(states.map((s) => s.revision)).toEqual([before + 1, before + 2, before + 3]);
    const saved = await provider.getConfig();
    expect(saved).toMatchObject({ revision: before + 3, pools: tables[2] });
    expect(await route()).toBe('pool_green');
    const answers = await served(60, 6);
    expect(new Set(answers.map((a) => a.instance))).toEqual(new Set(['green-1', 'green-2']));
  }, 30_000);

  it('a change cut between the split commit and the route entry (simulated crash) serves the old table whole, then the new one', async () => {
    // The state a control plane killed between the two commands leaves: the split map already says
    // blue, the route map still says green (what a SIGKILL there leaves in HAProxy).
    const lines = splitMapLines([{ name: 'blue', weight: 100 }]);
    const prepared = await provider.admin.send(`prepare map ${provider.files.map}`);
    const version = /New version created: (\d+)/.exec(prepared)?.[1];
    await provider.admin.run(`add map @${version} ${provider.files.map}`, undefined, lines.join('\n'));
    await provider.admin.run(`commit map @${version} ${provider.files.map}`);
    const cut = await served(60, 6);
    expect(cut.every((a) => a.pool === 'green')).toBe(true);
    // The next process applies the desired table again (the reconciler does): all of it, at once.
    const next = new HaproxyProvider({ dir, port: Number(new URL(provider.address).port) });
    expect(await next.adopt()).not.toBeNull();
    await next.setConfig({ pools: [pool('blue', 100, [blue1]), pool('green', 0, [green1, green2])] });
    const after = await served(60, 6);
    expect(after.every((a) => a.pool === 'blue')).toBe(true);
  }, 30_000);

  it('refuses a table that does not fit, naming the field, and changes nothing', async () => {
    const revision = (await provider.getConfig()).revision;
    await expect(
      provider.setConfig({ pools: [pool('blue', 100, [blue2]), pool('canary', 10, [green1])] }),
    ).rejects.toMatchObject({ field: 'pools[1].name' });
    await expect(
      provider.setConfig({
        pools: [{ name: 'blue', version: '1.0.0', weight: 100, targets: ['localhost:80'] }],
      }),
    ).rejects.toMatchObject({ field: 'pools[0].targets[0]' });
    expect((await provider.getConfig()).revision).toBe(revision);
  });

  it('starts a haproxy that died again, serving the saved table from its first request', async () => {
    await provider.setConfig({ pools: [pool('blue', 100, [blue2]), pool('green', 0, [green1])] });
    const dead = provider.pid as number;
    process.kill(dead, 'SIGKILL');
    expect(await waitForExit(dead, 5_000)).toBe(true);
    expect(provider.isRunning()).toBe(false);
    const again = new HaproxyProvider({
      dir,
      port: Number(new URL(provider.address).port),
      checkIntervalMs: 500,
    });
    expect(await again.adopt()).toBeNull();
    provider = again;
    const proc = await provider.start();
    pids.add(proc.pid);
    const answers = await burst(20, 4);
    expect(failed(answers)).toEqual([]);
    expect(new Set(answers.map((a) => a.instance))).toEqual(new Set(['blue-2']));
    expect((await provider.totals()).pools).toEqual({
      blue: { requests: 20, errors: 0, inFlight: 0 },
      green: { requests: 0, errors: 0, inFlight: 0 },
    });
  }, 30_000);

  it('is adopted by a second provider on the same directory without a failed request, then stopped', async () => {
    await provider.setConfig({
      pools: [pool('blue', 50, [blue1, blue2]), pool('green', 50, [green1, green2])],
    });
    const pid = provider.pid as number;
    const l = load(8);
    await l.reached(100);
    const second = new HaproxyProvider({ dir, port: Number(new URL(provider.address).port) });
    expect(second.isRunning()).toBe(true);
    expect(await second.adopt()).toEqual({ pid, address: provider.address });
    const revision = (await second.getConfig()).revision;
    const state = await second.setConfig({ pools: [pool('green', 100, [green1, green2])] });
    const changedAt = performance.now();
    expect(state.revision).toBe(revision + 1);
    await l.reached(l.answers.length + 200);
    const answers = await l.stop();
    expect(failed(answers)).toEqual([]);
    expect(answers.filter((a) => a.startedAt > changedAt).every((a) => a.pool === 'green')).toBe(true);

    await second.stop(10_000);
    expect(isAlive(pid)).toBe(false);
    expect(second.isRunning()).toBe(false);
    expect(provider.isRunning()).toBe(false);
    expect((await get()).error).not.toBeNull();
  }, 30_000);
});
