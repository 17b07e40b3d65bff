import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { RouterClient } from '../router/client.ts';
import { type RouterConfig, type RouterConfigState, validateRouterConfig } from '../router/config.ts';
import {
  adoptRouter,
  isRouterProcess,
  routerProcessesIn,
  type StartRouterOptions,
  startRouter,
  stopRouter,
} from '../router/process.ts';
import type { PoolWindowStats } from '../router/stats.ts';
import type {
  TrafficCounts,
  TrafficHealth,
  TrafficProcess,
  TrafficProvider,
  TrafficTotals,
} from './provider.ts';

export interface NodeRouterProviderOptions extends StartRouterOptions {
  /** The router's pid on record (from an earlier start); a hint for `adopt`, `isRunning`, `stop`. */
  pid?: number | null;
  /** Control API timeout; default 5 s. */
  timeoutMs?: number;
}

/** Sums the Node router's Prometheus counters, in all and per `pool` label. */
export function parseRouterPoolTotals(text: string): TrafficTotals {
  const out: TrafficTotals = { requests: 0, errors: 0, pools: {} };
  for (const line of text.split('\n')) {
    const kind = line.startsWith('qubot_router_requests_total{')
      ? 'requests'
      : line.startsWith('qubot_router_errors_total{')
        ? 'errors'
        : null;
    if (!kind) continue;
    const value = Number(line.split(' ').pop()) || 0;
    const pool = /[{,]pool="([^"]*)"/.exec(line)?.[1] ?? '';
    const counts: TrafficCounts = out.pools[pool] ?? { requests: 0, errors: 0 };
    out.pools[pool] = counts;
    counts[kind] += value;
    out[kind] += value;
  }
  return out;
}

/** Replaces a router's saved table (its state file) before it starts: the next revision, `config`. */
export function writeSavedTable(stateFile: string, config: RouterConfig): RouterConfigState {
  const table = validateRouterConfig(config);
  let revision = 0;
  try {
    revision = Number((JSON.parse(readFileSync(stateFile, 'utf8')) as RouterConfigState).revision) || 0;
  } catch {
    // None saved yet.
  }
  const state: RouterConfigState = { ...table, revision: revision + 1, updatedAt: new Date().toISOString() };
  mkdirSync(dirname(stateFile), { recursive: true, mode: 0o700 });
  const tmp = `${stateFile}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  renameSync(tmp, stateFile);
  return state;
}

/** The embedded Node router (`router/*`) behind the `TrafficProvider` interface; it changes nothing of it. */
export class NodeRouterProvider implements TrafficProvider {
  readonly kind = 'node';
  readonly capabilities = { survivesControlPlaneRestart: true, checksTargets: false, windowStats: true };
  readonly address: string;
  readonly client: RouterClient;
  private currentPid: number | null;

  constructor(private readonly options: NodeRouterProviderOptions) {
    this.address = `http://${options.host ?? '127.0.0.1'}:${options.port}`;
    this.currentPid = options.pid ?? null;
    this.client = new RouterClient({
      controlUrl: `http://127.0.0.1:${options.controlPort}`,
      secret: options.secret,
      timeoutMs: options.timeoutMs ?? 5_000,
    });
  }

  get pid(): number | null {
    return this.currentPid;
  }

  async start(initial?: RouterConfig): Promise<TrafficProcess> {
    if (initial) writeSavedTable(this.options.stateFile, initial);
    const proc = await startRouter(this.options);
    this.currentPid = proc.pid;
    return { pid: proc.pid, address: proc.address };
  }

  async adopt(): Promise<TrafficProcess | null> {
    const { port, controlPort, secret, host, timeoutMs } = this.options;
    const proc = await adoptRouter({
      pid: this.currentPid ?? 0,
      port,
      controlPort,
      secret,
      ...(host ? { host } : {}),
      ...(timeoutMs ? { timeoutMs } : {}),
    });
    if (!proc) return null;
    this.currentPid = proc.pid;
    return { pid: proc.pid, address: proc.address };
  }

  isRunning(): boolean {
    return isRouterProcess(this.currentPid);
  }

  /** A router running in this environment's router directory (where `start` runs it), on its control port. */
  unanswered(): number | null {
    return routerProcessesIn(dirname(this.options.logFile), this.options.controlPort)[0] ?? null;
  }

  async stop(timeoutMs?: number): Promise<void> {
    if (this.currentPid) await stopRouter(this.currentPid, timeoutMs);
  }

  async health(): Promise<TrafficHealth> {
    const h = await this.client.health();
    return {
      ok: h.status === 'ok',
      pid: h.pid,
      revision: h.revision,
      listening: h.listening !== false,
      targets: null,
    };
  }

  getConfig(): Promise<RouterConfigState> {
    return this.client.getConfig();
  }

  setConfig(config: RouterConfig): Promise<RouterConfigState> {
    return this.client.setConfig(config);
  }

  waitDrained(targets: string[], timeoutMs?: number): Promise<boolean> {
    return this.client.waitDrained(targets, timeoutMs);
  }

  async totals(): Promise<TrafficTotals> {
    return parseRouterPoolTotals(await this.client.metrics());
  }

  async windowStats(windowMs: number): Promise<PoolWindowStats[]> {
    return (await this.client.allStats(windowMs)).pools;
  }
}
