import { chmodSync, mkdirSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import {
  commandLineOf,
  entryArgs,
  goneFrom,
  isAlive,
  isOurProcess,
  signal,
  spawnDetached,
  tailFile,
  waitForExit,
} from '../proc.ts';

import { RouterClient } from './client.ts';

/** Appears in the router's command line; checked before signalling a PID read from the database. */
const ROUTER_MARKER = 'router-main';

export interface StartRouterOptions {
  /** Traffic port: the environment's stable address. */
  port: number;
  /** Control API port (127.0.0.1 only). */
  controlPort: number;
  secret: string;
  /** Persisted routing config; reloaded when the router restarts. */
  stateFile: string;
  /** The router's stdout/stderr (appended). */
  logFile: string;
  /** Interface for the traffic port; default 127.0.0.1. */
  host?: string;
  startTimeoutMs?: number;
  /** Keep trying to bind a taken traffic port for this long (a takeover); default 0: fail at once. */
  bindRetryMs?: number;
}

export interface RouterProcess {
  pid: number;
  port: number;
  controlPort: number;
  /** Where the environment's traffic goes, e.g. `http://127.0.0.1:9100`. */
  address: string;
  controlUrl: string;
  client: RouterClient;
}

/** Starts a detached router process (it outlives the caller) and waits until its control API answers. */
export async function startRouter(options: StartRouterOptions): Promise<RouterProcess> {
  const logFile = resolve(options.logFile);
  mkdirSync(dirname(logFile), { recursive: true, mode: 0o700 });
  chmodSync(dirname(logFile), 0o700);
  const host = options.host ?? '127.0.0.1';
  const { pid, exited } = await spawnDetached('router', process.execPath, entryArgs('router/router-main'), {
    cwd: dirname(logFile),
    env: {
      PATH: process.env.PATH ?? '',
      QUBOT_ROUTER_PORT: String(options.port),
      QUBOT_ROUTER_CONTROL_PORT: String(options.controlPort),
      QUBOT_ROUTER_SECRET: options.secret,
      QUBOT_ROUTER_STATE_FILE: resolve(options.stateFile),
      QUBOT_ROUTER_HOST: host,
      ...(options.bindRetryMs ? { QUBOT_ROUTER_BIND_RETRY_MS: String(options.bindRetryMs) } : {}),
    },
    logFile,
  });

  const client = new RouterClient({
    controlUrl: `http://127.0.0.1:${options.controlPort}`,
    secret: options.secret,
  });
  const deadline = Date.now() + (options.startTimeoutMs ?? 15_000);
  while (true) {
    const early = exited();
    if (early) {
      const tail = await tailFile(logFile, 20);
      throw new Error(`${early}:\n${tail.join('\n')}`);
    }
    try {
      const h = await client.health();
      // Another process on that port would answer too; only our child counts.
      if (h.pid === pid) break;
      signal(pid, 'SIGKILL');
      throw new Error(`control port ${options.controlPort} is taken by process ${h.pid}`);
    } catch (err) {
      if ((err as Error).message.startsWith('control port')) throw err;
    }
    if (Date.now() > deadline) {
      signal(pid, 'SIGKILL');
      throw new Error('router did not become ready in time');
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    pid,
    port: options.port,
    controlPort: options.controlPort,
    address: `http://${host}:${options.port}`,
    controlUrl: client.controlUrl,
    client,
  };
}

export interface AdoptRouterOptions {
  pid: number;
  port: number;
  controlPort: number;
  secret: string;
  host?: string;
  /** Control API timeout for the checks; default 5 s. */
  timeoutMs?: number;
}

/**
 * Re-attaches to a router started by an earlier control-plane process: one of our router processes
 * (command line) answering on the control port and accepting the secret. The pid on record is only
 * a hint: a router started again by someone whose database write did not land yet (a lock held
 * elsewhere) answers with its new pid, which is returned. Null when there is no such router.
 */
export async function adoptRouter(options: AdoptRouterOptions): Promise<RouterProcess | null> {
  const client = new RouterClient({
    controlUrl: `http://127.0.0.1:${options.controlPort}`,
    secret: options.secret,
    timeoutMs: options.timeoutMs ?? 5_000,
  });
  let pid: number;
  try {
    const h = await client.health();
    pid = h.pid;
    if (!isOurProcess(pid, ROUTER_MARKER)) return null;
    // A router finishing its last requests before it exits is not one to use.
    if (h.draining) return null;
    // Checks the secret too: a router we cannot control is not adopted.
    await client.getConfig();
  } catch {
    return null;
  }
  return {
    pid,
    port: options.port,
    controlPort: options.controlPort,
    address: `http://${options.host ?? '127.0.0.1'}:${options.port}`,
    controlUrl: client.controlUrl,
    client,
  };
}

/**
 * Router processes whose working directory is `dir` (a router runs in the directory of its log
 * file: its environment's router directory), by pid — those nobody recorded too, such as one a
 * control plane started just before it crashed — and, given `controlPort`, only those started with
 * it (their environment). Reads /proc; no network.
 */
export function routerProcessesIn(dir: string, controlPort?: number): number[] {
  const want = resolve(dir);
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  return entries.flatMap((name) => {
    if (!/^\d+$/.test(name)) return [];
    const pid = Number(name);
    if (pid === process.pid || !commandLineOf(pid)?.includes(ROUTER_MARKER) || !isAlive(pid)) return [];
    try {
      if (readlinkSync(`/proc/${pid}/cwd`) !== want) return [];
      if (controlPort === undefined) return [pid];
      const env = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
      return env.includes(`QUBOT_ROUTER_CONTROL_PORT=${controlPort}`) ? [pid] : [];
    } catch {
      return [];
    }
  });
}

/** Whether a router process is alive under `pid` (cheap: no network). */
export function isRouterProcess(pid: number | null | undefined): boolean {
  return isOurProcess(pid, ROUTER_MARKER);
}

/** SIGTERM (the router drains in-flight requests), SIGKILL after the timeout. Idempotent. */
export async function stopRouter(pid: number, timeoutMs = 20_000): Promise<void> {
  if (!isOurProcess(pid, ROUTER_MARKER)) return;
  const gone = () => goneFrom(pid, ROUTER_MARKER);
  signal(pid, 'SIGTERM');
  if (!(await waitForExit(pid, timeoutMs, gone))) {
    signal(pid, 'SIGKILL');
    await waitForExit(pid, 2_000, gone);
  }
}
