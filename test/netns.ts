// Hosts for real on one machine (docs/hosts.md, "Testing"): Linux network namespaces, each with
// its own address on a private bridge this helper creates — and removes again, with every process
// left in the namespaces, also when a test fails. Root only; `netnsUnavailable()` says why not.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe } from 'vitest';
import type { Host, List } from '../packages/api-contract/src/index.ts';

const ROOT = resolve(import.meta.dirname, '..');
const CLI = join(ROOT, 'apps/cli/bin/qubot.mjs');

const run = (...args: string[]) =>
  execFileSync('ip', args, { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });

/** Why namespace hosts cannot be made here (not root, no `ip`, not permitted), or null when they can. */
export function netnsUnavailable(): string | null {
  const probe = `qbt-probe-${process.pid}`;
  try {
    run('netns', 'add', probe);
    run('netns', 'del', probe);
    return null;
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    return `ip netns add is not permitted here (${(e.stderr || e.message).trim().split('\n')[0]})`;
  }
}

export interface NetnsHost {
  ns: string;
  address: string;
  /** The bridge side of its link: set down to cut the host off. */
  veth: string;
}

export interface Fleet {
  /** The root namespace's address on the bridge: where the control plane listens for agents. */
  gateway: string;
  hosts: NetnsHost[];
  /** Starts `command` inside the host's namespace (`ip netns exec`: the same pid, no shell). */
  spawnIn(
    i: number,
    command: string,
    args: string[],
    opts: { cwd: string; env?: NodeJS.ProcessEnv },
  ): ChildProcess;
  /**
   * `qubot agent` (the real CLI) inside host i's namespace, named `host-<i>`, reaching the control
   * plane at `server`; enrols when given a token. Its stderr lines are appended to `log`.
   */
  startAgent(
    i: number,
    opts: { server: string; dataDir: string; token?: string; capacity?: number; log: string[] },
  ): ChildProcess;
  /** The pids in host i's namespace (`ip netns pids`), sorted. */
  pids(i: number): string[];
  /** Supervisor processes of instance `id` in all the namespaces (their command line names its spec). */
  supervisorsOf(id: string): number;
  /** Cuts the host off (its link down) / brings it back. */
  cut(i: number): void;
  restore(i: number): void;
  /** Kills everything in the namespaces, removes them and the bridge. Idempotent. */
  destroy(): void;
}

/**
 * `n` namespace hosts on a new bridge, 10.<net>.<k>.10+i/24 with k from the pid (parallel test
 * runs). `prefix` and `net` keep the names and addresses of separate suites apart (default: the
 * `qb…` names on 10.77).
 */
export function createFleet(n: number, opts: { prefix?: string; net?: number } = {}): Fleet {
  const id = process.pid % 10_000;
  const subnet = `10.${opts.net ?? 77}.${process.pid % 250}`;
  const p = opts.prefix;
  const bridge = p ? `${p}${id}b` : `qbr${id}`;
  const hosts: NetnsHost[] = Array.from({ length: n }, (_, i) => ({
    ns: p ? `${p}-${id}-${i}` : `qbt-${id}-${i}`,
    address: `${subnet}.${10 + i}`,
    veth: p ? `${p}${id}h${i}` : `qv${id}h${i}`,
  }));
  let destroyed = false;
  const destroy = () => {
    if (destroyed) return;
    destroyed = true;
    for (const h of hosts) {
      try {
        const pids = run('netns', 'pids', h.ns).split('\n').filter(Boolean);
        for (const pid of pids) {
          try {
            process.kill(Number(pid), 'SIGKILL');
          } catch {
            // gone already
          }
        }
      } catch {
        // no such namespace
      }
      try {
        run('netns', 'del', h.ns);
      } catch {
        // not created
      }
    }
    try {
      run('link', 'del', bridge);
    } catch {
      // not created
    }
  };
  process.once('exit', destroy);
  try {
    run('link', 'add', bridge, 'type', 'bridge');
    run('addr', 'add', `${subnet}.1/24`, 'dev', bridge);
    run('link', 'set', bridge, 'up');
    for (const h of hosts) {
      const inner = `${h.veth}n`;
      run('netns', 'add', h.ns);
      run('link', 'add', h.veth, 'type', 'veth', 'peer', 'name', inner);
      run('link', 'set', inner, 'netns', h.ns);
      run('link', 'set', h.veth, 'master', bridge);
      run('link', 'set', h.veth, 'up');
      run('-n', h.ns, 'addr', 'add', `${h.address}/24`, 'dev', inner);
      run('-n', h.ns, 'link', 'set', inner, 'up');
      run('-n', h.ns, 'link', 'set', 'lo', 'up');
    }
  } catch (err) {
    destroy();
    throw err;
  }
  const spawnIn: Fleet['spawnIn'] = (i, command, args, opts) => {
    const h = hosts[i] as NetnsHost;
    return spawn('ip', ['netns', 'exec', h.ns, command, ...args], {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  };
  const pids = (i: number) =>
    run('netns', 'pids', (hosts[i] as NetnsHost).ns)
      .split('\n')
      .filter(Boolean)
      .sort();
  return {
    gateway: `${subnet}.1`,
    hosts,
    spawnIn,
    startAgent(i, opts) {
      const h = hosts[i] as NetnsHost;
      const args = [CLI, 'agent', '--server', opts.server, '--data-dir', opts.dataDir];
      args.push('--address', h.address, '--name', `host-${i}`);
      if (opts.capacity) args.push('--capacity', String(opts.capacity));
      if (opts.token) args.push('--enrol', opts.token);
      const child = spawnIn(i, process.execPath, args, {
        cwd: ROOT,
        env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root', NO_COLOR: '1' },
      });
      child.stderr?.on('data', (d: Buffer) => opts.log.push(`h${i} ${d.toString().trim()}`));
      return child;
    },
    pids,
    supervisorsOf(id) {
      let n = 0;
      for (let i = 0; i < hosts.length; i++) {
        for (const pid of pids(i)) {
          let cmd = '';
          try {
            cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
          } catch {
            continue;
          }
          if (cmd.includes('supervisor-main') && cmd.includes(`/${id}/spec.json`)) n++;
        }
      }
      return n;
    },
    cut: (i) => run('link', 'set', (hosts[i] as NetnsHost).veth, 'down'),
    restore: (i) => run('link', 'set', (hosts[i] as NetnsHost).veth, 'up'),
    destroy,
  };
}

/** The environment the namespace suites place on their hosts. */
export const FLEET_ENV = 'development';

export interface FleetSuite {
  /** The namespace hosts, made before the suite's own `beforeAll` runs. */
  readonly fleet: Fleet;
  /** Names of the tests that ran: the suite says them at the end. */
  ran: string[];
  /** Each host's agent process (the last one started there), by index. */
  agents: Map<number, ChildProcess>;
  /** The agents' stderr lines, for failure messages. */
  agentLog: string[];
  /** `qubot agent` in host i's namespace, with a data directory of the suite's; kept in `agents`. */
  startAgent(i: number, opts: { server: string; token?: string; capacity?: number }): ChildProcess;
  /** Run at the end, in the order given, once the agents are killed and the namespaces removed. */
  onClose(fn: () => Promise<unknown>): void;
}

/**
 * A `describe` of tests on `hosts` namespace hosts (`createFleet`), skipped with a message where
 * namespaces cannot be made (not root). It makes the fleet first, and at the end says which tests
 * ran (`suite.ran`), kills the agents, removes the namespaces (every process in them) even when a
 * test failed, then runs the `onClose` steps. `tag` starts its log lines, `what` names its tests.
 */
export function describeFleet(
  title: string,
  opts: { tag: string; what: string; hosts: number; prefix?: string; net?: number },
  body: (suite: FleetSuite) => void,
) {
  const unavailable = netnsUnavailable();
  if (unavailable) console.log(`${opts.tag} ${opts.what} SKIPPED: ${unavailable}; they need root`);
  describe.skipIf(unavailable !== null)(title, () => {
    let fleet: Fleet | null = null;
    const agentDir = mkdtempSync(join(tmpdir(), 'qubot-fleet-'));
    const closers: (() => Promise<unknown>)[] = [];
    const suite: FleetSuite = {
      get fleet() {
        if (!fleet) throw new Error('the fleet is made in beforeAll');
        return fleet;
      },
      ran: [],
      agents: new Map(),
      agentLog: [],
      startAgent(i, o) {
        const child = suite.fleet.startAgent(i, {
          server: o.server,
          dataDir: join(agentDir, `h${i}`),
          log: suite.agentLog,
          ...(o.capacity ? { capacity: o.capacity } : {}),
          ...(o.token ? { token: o.token } : {}),
        });
        suite.agents.set(i, child);
        return child;
      },
      onClose: (fn) => closers.push(fn),
    };
    beforeAll(() => {
      fleet = createFleet(opts.hosts, {
        ...(opts.prefix ? { prefix: opts.prefix } : {}),
        ...(opts.net ? { net: opts.net } : {}),
      });
    });
    afterAll(async () => {
      console.log(`${opts.tag} ${opts.what} ran: ${suite.ran.length} (${suite.ran.join(', ')})`);
      for (const a of suite.agents.values()) a.kill('SIGKILL');
      // The namespaces (and every process in them) first: nothing is left behind if closing hangs.
      fleet?.destroy();
      for (const close of closers) await close().catch(() => {});
      rmSync(agentDir, { recursive: true, force: true });
    }, 120_000);
    body(suite);
  });
}

/** What the fleet helpers below need of the orchestrator tests' harness. */
interface FleetHarness {
  app: { inject(opts: object): Promise<{ statusCode: number; body: string; json(): unknown }> };
  as(role: 'admin'): Promise<Record<string, string>>;
  db: {
    prisma: {
      environment: {
        findFirstOrThrow(q: { where: { name: string } }): Promise<{ id: string }>;
        update(q: { where: { id: string }; data: { replicas: number } }): Promise<unknown>;
      };
    };
  };
}

/** A one-time enrolment token named `name`, created by an admin through the API: its secret. */
export async function enrolmentSecret(h: FleetHarness, name: string): Promise<string> {
  const res = await h.app.inject({
    method: 'POST',
    url: '/api/v1/hosts/enrolment-tokens',
    payload: { name },
    headers: await h.as('admin'),
  });
  if (res.statusCode !== 201) throw new Error(`enrolment token: ${res.statusCode} ${res.body}`);
  return (res.json() as { secret: string }).secret;
}

/** Environment `env` of `app` set to `replicas` instances placed on the hosts (admin, through the API). */
export async function placeOnHosts(h: FleetHarness, app: string, env: string, replicas: number) {
  const row = await h.db.prisma.environment.findFirstOrThrow({ where: { name: env } });
  await h.db.prisma.environment.update({ where: { id: row.id }, data: { replicas } });
  const set = await h.app.inject({
    method: 'PATCH',
    url: `/api/v1/apps/${app}/environments/${env}/settings`,
    payload: { placement: 'hosts' },
    headers: await h.as('admin'),
  });
  if (set.statusCode !== 200) throw new Error(`placement: ${set.statusCode} ${set.body}`);
}

/** The hosts as an admin lists them (GET /api/v1/hosts). */
export async function listHosts(h: FleetHarness): Promise<Host[]> {
  const res = await h.app.inject({ method: 'GET', url: '/api/v1/hosts', headers: await h.as('admin') });
  return (res.json() as List<Host>).items;
}
