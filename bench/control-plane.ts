// The control plane in a child process, the way the quick start runs it:
// `node --import tsx apps/api/src/main.ts --demo` on a free port with its own data directory
// (embedded PostgreSQL), ready once /readyz answers 200. Shared by the benchmarks that drive
// a real server (zero-downtime, crash-soak, race, api-reads).
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from '@qubot/runtime';
import { request } from 'undici';

export const ROOT = resolve(import.meta.dirname, '..');

export interface ControlPlaneOptions {
  dataDir: string;
  /** stdout and stderr are appended here. */
  logFile: string;
  /** Default: a free port. A restart on the same data directory passes the previous one. */
  port?: number;
  /** Extra environment (LOG_LEVEL, …). DATABASE_URL is always removed: embedded PostgreSQL. */
  env?: NodeJS.ProcessEnv;
  /** Node flags before `--import tsx` (e.g. --cpu-prof). */
  nodeFlags?: string[];
  readyTimeoutMs?: number;
}

export async function startControlPlane(
  opts: ControlPlaneOptions,
): Promise<{ child: ChildProcess; base: string; port: number }> {
  const port = opts.port ?? (await freePort());
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...opts.env,
    PORT: String(port),
    QUBOT_DATA_DIR: opts.dataDir,
  };
  delete env.DATABASE_URL;
  const log = openSync(opts.logFile, 'a');
  const child = spawn(
    process.execPath,
    [...(opts.nodeFlags ?? []), '--import', 'tsx', 'apps/api/src/main.ts', '--demo'],
    { cwd: ROOT, env, stdio: ['ignore', log, log] },
  );
  closeSync(log);
  const base = `http://127.0.0.1:${port}`;
  const timeout = opts.readyTimeoutMs ?? 180_000;
  const deadline = Date.now() + timeout;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`API exited with ${child.exitCode}; see ${opts.logFile}`);
    try {
      const res = await request(`${base}/readyz`);
      await res.body.dump();
      if (res.statusCode === 200) break;
    } catch {}
    if (Date.now() > deadline)
      throw new Error(`API not ready after ${timeout / 1000} s; see ${opts.logFile}`);
    await sleep(200);
  }
  return { child, base, port };
}
