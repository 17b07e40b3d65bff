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

/** A signed-in session against the API: session cookie + CSRF token, JSON in and out. */
export function apiSession(base: string) {
  let cookie = '';
  let csrf = '';
  async function call<T>(
    method: 'GET' | 'POST' | 'PATCH',
    path: string,
    body?: object,
  ): Promise<{ status: number; json: T; text: string }> {
    const headers: Record<string, string> = { cookie };
    if (body) headers['content-type'] = 'application/json';
    if (method !== 'GET') headers['x-csrf-token'] = csrf;
    const res = await request(`${base}/api/v1${path}`, {
      method,
      headers,
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await res.body.text();
    return { status: res.statusCode, json: (text ? JSON.parse(text) : null) as T, text };
  }
  async function login(username: string, password: string): Promise<void> {
    const res = await request(`${base}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username, password }),
    });
    await res.body.dump();
    const jar = [res.headers['set-cookie']]
      .flat()
      .filter((c): c is string => typeof c === 'string')
      .map((c) => c.split(';')[0] ?? '');
    cookie = jar.filter((c) => /^qubot_(session|csrf)=/.test(c)).join('; ');
    csrf = jar.find((c) => c.startsWith('qubot_csrf='))?.slice('qubot_csrf='.length) ?? '';
    if (res.statusCode !== 200 || !csrf) throw new Error(`login as ${username} failed: ${res.statusCode}`);
  }
  return { call, login };
}
