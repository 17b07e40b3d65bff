// A real HAProxy as an environment's traffic router, driven through its runtime API (admin socket).
// Pools are backends with fixed server slots; a routing change enables new slots once HAProxy's own
// check passes, swaps the split map in one commit, then drains and parks the slots taken out.
import { chmodSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { goneFrom, isOurProcess, signal, spawnDetached, tailFile, waitForExit } from '../proc.ts';
import {
  ConfigValidationError,
  type RouterConfig,
  type RouterConfigState,
  validateRouterConfig,
} from '../router/config.ts';
import type {
  TargetHealth,
  TrafficHealth,
  TrafficProcess,
  TrafficProvider,
  TrafficTotals,
} from '../traffic/provider.ts';
import { HaproxyAdmin, HaproxyAdminError, type StatRow } from './admin-socket.ts';
import {
  checkConfigOptions,
  checkTableFits,
  filesOf,
  type HaproxyConfigOptions,
  type HaproxyFiles,
  NO_POOL,
  poolOf,
  ROUTE_KEY,
  renderHaproxyConfig,
  routeOf,
  splitMapLines,
  targetAddress,
} from './config.ts';

export const HAPROXY_BIN = '/usr/sbin/haproxy';

export interface HaproxyProviderOptions {
  /**
   * The environment's runtime directory: haproxy.cfg, admin.sock, haproxy.pid, state.json (the
   * routing table), split.map, haproxy.log. Kept short: the socket path must fit a unix socket.
   */
  dir: string;
  /** Traffic port: the environment's stable address. */
  port: number;
  /** Interface for the traffic port; default 127.0.0.1. */
  host?: string;
  /** Pool names the orchestrator uses, one backend each; default blue, green. */
  pools?: string[];
  /** Server slots per backend; default 32. */
  slots?: number;
  /** Path HAProxy's health check requests from each target (2xx = up); default /healthz. */
  healthPath?: string;
  haproxyBin?: string;
  /** Health check interval; default 1 s. */
  checkIntervalMs?: number;
  /** How long a change waits for new targets to pass HAProxy's check before using them; default 5 s. */
  readyTimeoutMs?: number;
  connectTimeoutMs?: number;
  /** Upstream inactivity timeout; default 60 s. */
  serverTimeoutMs?: number;
  /** On stop, how long in-flight requests may take; default 15 s. */
  drainTimeoutMs?: number;
  maxconn?: number;
  startTimeoutMs?: number;
  /** Admin socket answer timeout; default 5 s. */
  adminTimeoutMs?: number;
  log?: (msg: string, extra?: Record<string, unknown>) => void;
}

/** One server slot of a pool's backend, from `show stat`. */
interface Slot {
  pool: string;
  backend: string;
  name: string;
  /** The target it holds; null when parked in maintenance (free). */
  target: string | null;
  state: TargetHealth['state'];
  up: boolean;
  check: string;
  /** Requests on it or queued for it. */
  busy: number;
}

const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));
const num = (v: string | undefined) => Number(v) || 0;
const SET_ADDR_OK = /changed from|no need to change/;

function slotsOf(rows: StatRow[]): Slot[] {
  const out: Slot[] = [];
  for (const r of rows) {
    const pool = poolOf(r.pxname ?? '');
    if (r.type !== '2' || !pool) continue;
    const status = r.status ?? '';
    const state = status.startsWith('MAINT') ? 'maint' : status.startsWith('DRAIN') ? 'drain' : 'ready';
    // While a check runs the last result shows as `* L7OK`.
    const check = (r.check_status ?? '').replace(/^\* /, '');
    out.push({
      pool,
      backend: r.pxname as string,
      name: r.svname as string,
      target: state === 'maint' ? null : (r.addr ?? null),
      state,
      // A slot leaving maintenance counts as up until its first check ("INI"): not here.
      up: state !== 'maint' && /^L[4-7]OK/.test(check) && num(r.check_health) >= num(r.check_rise),
      check,
      busy: num(r.scur) + num(r.qcur),
    });
  }
  return out;
}

function writeAtomic(path: string, text: string) {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, text, { mode: 0o600 });
  renameSync(tmp, path);
}

export class HaproxyProvider implements TrafficProvider {
  readonly kind = 'haproxy';
  readonly capabilities = { survivesControlPlaneRestart: true, checksTargets: true, windowStats: false };
  readonly address: string;
  readonly files: HaproxyFiles;
  readonly admin: HaproxyAdmin;
  private readonly cfg: HaproxyConfigOptions;
  private readonly bin: string;
  private readonly readyTimeoutMs: number;
  private readonly startTimeoutMs: number;
  private readonly log: NonNullable<HaproxyProviderOptions['log']>;
  private currentPid: number | null = null;
  /** Changes of this object, one at a time (the orchestrator serialises across processes). */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(options: HaproxyProviderOptions) {
    this.files = filesOf(resolve(options.dir));
    const host = options.host ?? '127.0.0.1';
    this.cfg = {
      files: this.files,
      host,
      port: options.port,
      pools: options.pools ?? ['blue', 'green'],
      slots: options.slots ?? 32,
      healthPath: options.healthPath ?? '/healthz',
      checkIntervalMs: options.checkIntervalMs ?? 1_000,
      connectTimeoutMs: options.connectTimeoutMs ?? 5_000,
      serverTimeoutMs: options.serverTimeoutMs ?? 60_000,
      drainTimeoutMs: options.drainTimeoutMs ?? 15_000,
      ...(options.maxconn ? { maxconn: options.maxconn } : {}),
    };
    checkConfigOptions(this.cfg);
    this.address = `http://${host}:${options.port}`;
    this.bin = options.haproxyBin ?? HAPROXY_BIN;
    this.readyTimeoutMs = options.readyTimeoutMs ?? 5_000;
    this.startTimeoutMs = options.startTimeoutMs ?? 15_000;
    this.log = options.log ?? (() => {});
    this.admin = new HaproxyAdmin(this.files.socket, options.adminTimeoutMs ?? 5_000);
  }

  get pid(): number | null {
    return this.currentPid;
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => {});
    return run;
  }

  private readPidFile(): number | null {
    try {
      const pid = Number(readFileSync(this.files.pid, 'utf8').trim());
      return Number.isInteger(pid) && pid > 0 ? pid : null;
    } catch {
      return null;
    }
  }

  /** The saved routing table (several provider objects may share the directory: read every time). */
  private readState(): RouterConfigState {
    try {
      return JSON.parse(readFileSync(this.files.state, 'utf8')) as RouterConfigState;
    } catch {
      return { pools: [], revision: 0, updatedAt: new Date(0).toISOString() };
    }
  }

  private ours(pid: number | null): boolean {
    return isOurProcess(pid, this.files.config);
  }

  isRunning(): boolean {
    return this.ours(this.currentPid ?? this.readPidFile());
  }

  /** The haproxy the pid file names, when it is ours (its config path on its command line). */
  unanswered(): number | null {
    const pid = this.readPidFile();
    return this.ours(pid) ? pid : null;
  }

  /** Starts haproxy detached, serving the saved table from its first request. */
  async start(initial?: RouterConfig): Promise<TrafficProcess> {
    const running = this.readPidFile();
    if (this.ours(running))
      throw new Error(`haproxy ${running} already runs for ${this.files.dir}; adopt it`);
    mkdirSync(this.files.dir, { recursive: true, mode: 0o700 });
    chmodSync(this.files.dir, 0o700);
    const socketDir = dirname(this.files.socket);
    if (socketDir !== this.files.dir) {
      mkdirSync(socketDir, { recursive: true, mode: 0o700 });
      chmodSync(socketDir, 0o700);
    }
    if (initial) {
      const table = validateRouterConfig(initial);
      checkTableFits(table.pools, this.cfg.pools, this.cfg.slots);
      const saved: RouterConfigState = {
        pools: table.pools,
        revision: this.readState().revision + 1,
        updatedAt: new Date().toISOString(),
      };
      writeAtomic(this.files.state, `${JSON.stringify(saved, null, 2)}\n`);
    }
    const state = this.readState();
    // A pool saved under other options and no longer configured has no backend to send to.
    const pools = state.pools.filter((p) => this.cfg.pools.includes(p.name));
    const targets = Object.fromEntries(pools.map((p) => [p.name, p.targets]));
    writeAtomic(this.files.config, renderHaproxyConfig(this.cfg, targets));
    writeAtomic(this.files.map, `${splitMapLines(pools).join('\n')}\n`);
    writeAtomic(this.files.route, `${ROUTE_KEY} ${routeOf(pools)}\n`);

    // Foreground (no `daemon`): the child is haproxy itself, and its alerts go to the log file.
    const { pid, exited } = await spawnDetached('haproxy', this.bin, ['-f', this.files.config], {
      cwd: this.files.dir,
      env: { PATH: process.env.PATH ?? '' },
      logFile: this.files.log,
    });
    writeAtomic(this.files.pid, `${pid}\n`);

    const deadline = Date.now() + this.startTimeoutMs;
    while (true) {
      const early = exited();
      if (early) {
        rmSync(this.files.pid, { force: true });
        throw new Error(`${early}:\n${(await tailFile(this.files.log, 20)).join('\n')}`);
      }
      const info = await this.admin.showInfo().catch(() => null);
      if (info && Number(info.Pid) === pid) break;
      if (Date.now() > deadline) {
        signal(pid, 'SIGKILL');
        throw new Error(`haproxy did not answer on ${this.files.socket} in time`);
      }
      await delay(25);
    }
    this.currentPid = pid;
    this.log('haproxy started', { pid, address: this.address, revision: state.revision });
    return { pid, address: this.address };
  }

  /** The haproxy named by the pid file, when it is ours (command line) and answers on the socket. */
  async adopt(): Promise<TrafficProcess | null> {
    const pid = this.readPidFile();
    if (!this.ours(pid)) return null;
    const info = await this.admin.showInfo().catch(() => null);
    if (!info || Number(info.Pid) !== pid) return null;
    this.currentPid = pid;
    return { pid: pid as number, address: this.address };
  }

  /**
   * SIGUSR1 (soft stop: the listener closes, in-flight requests finish), then SIGTERM, SIGKILL.
   * From the soft stop on, the pid file no longer names it: a draining haproxy is not the
   * environment's any more, so a haproxy started meanwhile for the same address (a handover back
   * to HAProxy within the drain) is not taken for one still starting, and waited for or killed.
   */
  async stop(timeoutMs = 20_000): Promise<void> {
    const pid = this.currentPid ?? this.readPidFile();
    const gone = () => !pid || goneFrom(pid, this.files.config);
    if (pid && this.ours(pid)) {
      signal(pid, 'SIGUSR1');
      if (this.readPidFile() === pid) rmSync(this.files.pid, { force: true });
      if (!(await waitForExit(pid, timeoutMs, gone))) {
        signal(pid, 'SIGTERM');
        if (!(await waitForExit(pid, 2_000, gone))) {
          signal(pid, 'SIGKILL');
          await waitForExit(pid, 2_000, gone);
        }
      }
    }
    if (this.readPidFile() === pid) rmSync(this.files.pid, { force: true });
    this.currentPid = null;
  }

  async health(): Promise<TrafficHealth> {
    const [info, rows] = await Promise.all([this.admin.showInfo(), this.admin.showStat()]);
    const targets = slotsOf(rows)
      .filter((s) => s.target !== null)
      .map(({ pool, target, state, up, check }) => ({ pool, target: target as string, state, up, check }));
    return { ok: true, pid: Number(info.Pid), revision: this.readState().revision, targets };
  }

  async getConfig(): Promise<RouterConfigState> {
    return this.readState();
  }

  setConfig(config: RouterConfig): Promise<RouterConfigState> {
    return this.serial(() => this.apply(config));
  }

  private async apply(config: RouterConfig): Promise<RouterConfigState> {
    const table = validateRouterConfig(config);
    checkTableFits(table.pools, this.cfg.pools, this.cfg.slots);
    for (const p of table.pools) p.targets = [...new Set(p.targets)];
    const slots = slotsOf(await this.admin.showStat());

    // The plan first, so a table that does not fit changes nothing.
    const added: { slot: Slot; target: string }[] = [];
    const revived: Slot[] = [];
    const removed: Slot[] = [];
    for (const pool of this.cfg.pools) {
      const wanted = new Set(table.pools.find((p) => p.name === pool)?.targets ?? []);
      const held = new Set<string>();
      const mine = slots.filter((s) => s.pool === pool);
      for (const s of mine) {
        if (s.target === null) continue;
        if (wanted.has(s.target) && !held.has(s.target)) {
          held.add(s.target);
          if (s.state === 'drain') revived.push(s);
        } else removed.push(s);
      }
      const free = mine.filter((s) => s.target === null);
      const missing = [...wanted].filter((t) => !held.has(t));
      if (missing.length > free.length) {
        const i = table.pools.findIndex((p) => p.name === pool);
        throw new ConfigValidationError(
          `pools[${i}].targets`,
          `${missing.length} new targets but ${free.length} free slots (others still draining)`,
        );
      }
      for (const [i, target] of missing.entries()) added.push({ slot: free[i] as Slot, target });
    }

    // 1. New targets: an address, then checked by HAProxy while still out of load balancing.
    for (const { slot, target } of added) {
      const a = targetAddress(target) as { ip: string; port: number };
      const id = `${slot.backend}/${slot.name}`;
      await this.admin.run(`set server ${id} addr ${a.ip} port ${a.port}`, SET_ADDR_OK);
      await this.admin.run(`set server ${id} state drain`);
    }
    if (added.length > 0) await this.waitChecked(added.map((a) => a.slot));
    for (const s of [...added.map((a) => a.slot), ...revived]) {
      await this.admin.run(`set server ${s.backend}/${s.name} state ready`);
    }

    // 2. The split: one map version prepared, filled, then committed in one command; then the route
    // map's one entry (the pool taking every request, or `split`), set in one command. Either order
    // of the two is atomic for requests: the split map is already the new one when the route map
    // sends requests to it, and a route to one pool replaces the old routing as a whole.
    const lines = splitMapLines(table.pools);
    await this.commitSplit(lines);
    const route = routeOf(table.pools);
    await this.setRoute(route);

    // 3. Targets taken out: no new requests; parked once their last request has finished.
    for (const s of removed) {
      if (s.state === 'ready') await this.admin.run(`set server ${s.backend}/${s.name} state drain`);
    }
    const prev = this.readState();
    const state: RouterConfigState = {
      pools: table.pools,
      revision: prev.revision + 1,
      updatedAt: new Date().toISOString(),
    };
    writeAtomic(this.files.state, `${JSON.stringify(state, null, 2)}\n`);
    writeAtomic(this.files.map, `${lines.join('\n')}\n`);
    writeAtomic(this.files.route, `${ROUTE_KEY} ${route}\n`);
    if (removed.length > 0) await this.parkDrained(table);
    return state;
  }

  /** Until every slot passed HAProxy's health check, or the ready timeout (then used anyway). */
  private async waitChecked(slots: Slot[]): Promise<void> {
    const ids = new Set(slots.map((s) => `${s.backend}/${s.name}`));
    const deadline = Date.now() + this.readyTimeoutMs;
    while (true) {
      const pending = slotsOf(await this.admin.showStat()).filter(
        (s) => ids.has(`${s.backend}/${s.name}`) && !s.up,
      );
      if (pending.length === 0) return;
      if (Date.now() >= deadline) {
        // The orchestrator found them healthy; HAProxy keeps checking and sends traffic once up.
        this.log('targets not passing the haproxy health check yet', {
          targets: pending.map((s) => ({ pool: s.pool, target: s.target, check: s.check })),
        });
        return;
      }
      await delay(50);
    }
  }

  private async commitSplit(lines: string[]): Promise<void> {
    const map = this.files.map;
    const prepared = await this.admin.send(`prepare map ${map}`);
    const version = /New version created: (\d+)/.exec(prepared)?.[1];
    if (!version) throw new HaproxyAdminError('prepare map', prepared.trim());
    // A payload must fit HAProxy's buffer (16 kB): several `add map` for one version.
    let chunk: string[] = [];
    let bytes = 0;
    const flush = async () => {
      if (chunk.length > 0) await this.admin.run(`add map @${version} ${map}`, undefined, chunk.join('\n'));
      chunk = [];
      bytes = 0;
    };
    for (const line of lines) {
      if (bytes + line.length + 1 > 8_000) await flush();
      chunk.push(line);
      bytes += line.length + 1;
    }
    await flush();
    await this.admin.run(`commit map @${version} ${map}`);
  }

  /**
   * The route map's entry. A HAProxy started by an earlier version (adopted, config without the
   * route map) routes every request through the split map, which is already current: nothing to do.
   */
  private async setRoute(route: string): Promise<void> {
    const answer = await this.admin.send(`set map ${this.files.route} ${ROUTE_KEY} ${route}`);
    if (answer.trim() === '') return;
    if (/unknown map identifier/i.test(answer)) {
      this.log('haproxy runs a configuration without the route map; every request uses the split map');
      return;
    }
    throw new HaproxyAdminError('set map', answer.trim().slice(0, 500));
  }

  /** Puts into maintenance the draining slots (targets no longer in `table`) that carry no request. */
  private async parkDrained(table: RouterConfig): Promise<void> {
    for (const s of slotsOf(await this.admin.showStat())) {
      if (s.state !== 'drain' || s.busy > 0 || s.target === null) continue;
      if (table.pools.some((p) => p.name === s.pool && p.targets.includes(s.target as string))) continue;
      await this.admin.run(`set server ${s.backend}/${s.name} state maint`);
    }
  }

  /**
   * True once no request is in flight (or queued) on a slot holding one of `targets`; the drained
   * slots no longer in the table are then put into maintenance.
   */
  async waitDrained(targets: string[], timeoutMs = 30_000, intervalMs = 50): Promise<boolean> {
    const wanted = new Set(targets);
    const deadline = Date.now() + timeoutMs;
    while (true) {
      const slots = slotsOf(await this.admin.showStat());
      if (slots.every((s) => s.target === null || !wanted.has(s.target) || s.busy === 0)) {
        await this.serial(() => this.parkDrained(this.readState()));
        return true;
      }
      if (Date.now() >= deadline) return false;
      await delay(intervalMs);
    }
  }

  /**
   * Per pool backend: requests (`req_tot`), errors (`hrsp_5xx`, HAProxy's own 502/503/504 included,
   * plus `srv_abrt`: answers the upstream cut short), in flight (`scur` + `qcur`). The all-pool
   * figures also count the 503s answered while no pool had weight (the `no_pool` backend).
   */
  async totals(): Promise<TrafficTotals> {
    const out: TrafficTotals = { requests: 0, errors: 0, pools: {} };
    for (const r of await this.admin.showStat()) {
      if (r.type !== '1') continue;
      if (r.pxname === NO_POOL) {
        out.requests += num(r.req_tot);
        out.errors += num(r.req_tot);
        continue;
      }
      const pool = poolOf(r.pxname ?? '');
      if (!pool) continue;
      const counts = {
        requests: num(r.req_tot),
        errors: num(r.hrsp_5xx) + num(r.srv_abrt),
        inFlight: num(r.scur) + num(r.qcur),
      };
      out.pools[pool] = counts;
      out.requests += counts.requests;
      out.errors += counts.errors;
    }
    return out;
  }
}
