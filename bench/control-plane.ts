// The control plane in a child process, the way the quick start runs it:
// `node --import tsx apps/api/src/main.ts --demo` on a free port with its own data directory
// (embedded PostgreSQL), ready once /readyz answers 200. Shared by the benchmarks that drive
// a real server (zero-downtime, crash-soak, race, api-reads).
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ApiError, authHeaders, createApi, createHttpClient, signIn } from '@qubot/client';
import { freePort } from '@qubot/runtime';
import { request } from 'undici';

export const ROOT = resolve(import.meta.dirname, '..');

/**
 * A benchmark measures what it drives: no scheduled backup or restore drill (docs/backup.md) starts
 * in the middle of a window.
 */
const NO_BACKUP_SCHEDULE = { QUBOT_BACKUP_EVERY_HOURS: 'off', QUBOT_RESTORE_DRILL_EVERY_HOURS: 'off' };

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
  /** `--role` of the process (default: all, the quick start's). */
  role?: 'all' | 'api' | 'worker';
  /** The address to listen on (default 127.0.0.1; the hosts bench uses its bridge's). */
  host?: string;
  /** The checkout to run (default: this one); `api-reads-ab.ts` runs another beside it. */
  root?: string;
}

export interface ControlPlane {
  child: ChildProcess;
  base: string;
  port: number;
}

export async function startControlPlane(opts: ControlPlaneOptions): Promise<ControlPlane> {
  const port = opts.port ?? (await freePort());
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...NO_BACKUP_SCHEDULE,
    ...opts.env,
    PORT: String(port),
    QUBOT_DATA_DIR: opts.dataDir,
    ...(opts.host ? { HOST: opts.host } : {}),
  };
  delete env.DATABASE_URL;
  const log = openSync(opts.logFile, 'a');
  const child = spawn(
    process.execPath,
    [
      ...(opts.nodeFlags ?? []),
      '--import',
      'tsx',
      'apps/api/src/main.ts',
      '--demo',
      ...(opts.role ? ['--role', opts.role] : []),
    ],
    { cwd: opts.root ?? ROOT, env, stdio: ['ignore', log, log] },
  );
  closeSync(log);
  const base = `http://${opts.host ?? '127.0.0.1'}:${port}`;
  const timeout = opts.readyTimeoutMs ?? 180_000;
  const deadline = Date.now() + timeout;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`API exited with ${child.exitCode}; see ${opts.logFile}`);
    try {
      const res = await request(`${base}/readyz`);
      await res.body.dump();
      if (res.statusCode === 200) break;
    } catch {}
    if (Date.now() > deadline) {
      // Not left running: it may have started its embedded PostgreSQL and instances already.
      await stopControlPlane({ child });
      throw new Error(`API not ready after ${timeout / 1000} s; see ${opts.logFile}`);
    }
    await sleep(200);
  }
  return { child, base, port };
}

/**
 * How a bench stops a control plane it started: SIGTERM, then up to `timeoutMs` for it to exit (in
 * demo mode it stops its instances, routers and embedded PostgreSQL first).
 */
export async function stopControlPlane(cp: Pick<ControlPlane, 'child'>, timeoutMs = 40_000): Promise<void> {
  if (cp.child.exitCode !== null || cp.child.signalCode !== null) return;
  const exited = new Promise((r) => cp.child.once('exit', r));
  cp.child.kill('SIGTERM');
  await Promise.race([exited, sleep(timeoutMs)]);
}

/**
 * Starts several control planes at once. When one fails to start, those that did are stopped
 * (stopControlPlane, as at the bench's end) before the failure is thrown: none is left running.
 */
export async function startControlPlanes(list: ControlPlaneOptions[]): Promise<ControlPlane[]> {
  const settled = await Promise.allSettled(list.map((opts) => startControlPlane(opts)));
  const failed = settled.flatMap((s) => (s.status === 'rejected' ? [s.reason as unknown] : []));
  const started = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  if (failed.length === 0) return started;
  await Promise.all(started.map((cp) => stopControlPlane(cp)));
  throw failed.length === 1
    ? failed[0]
    : new AggregateError(failed, `${failed.length} control planes failed to start`);
}

/**
 * A worker process (`--role worker`) beside an API-only control plane started on `dataDir`: it uses
 * that control plane's embedded PostgreSQL (port and password from `pg.json`) and runtime directory.
 */
export function startWorkerProcess(opts: { dataDir: string; logFile: string }): ChildProcess {
  const info = JSON.parse(readFileSync(join(opts.dataDir, 'pg.json'), 'utf8')) as {
    port: number;
    password: string;
  };
  const log = openSync(opts.logFile, 'a');
  const child = spawn(process.execPath, ['--import', 'tsx', 'apps/api/src/main.ts', '--role', 'worker'], {
    cwd: ROOT,
    env: {
      ...process.env,
      ...NO_BACKUP_SCHEDULE,
      QUBOT_DATA_DIR: opts.dataDir,
      DATABASE_URL: `postgresql://postgres:${encodeURIComponent(info.password)}@127.0.0.1:${info.port}/qubot`,
      PORT: '0',
    },
    stdio: ['ignore', log, log],
  });
  closeSync(log);
  return child;
}

/**
 * A signed-in session against the API (@qubot/client: session cookie + CSRF token, JSON in and
 * out). `call` answers with the status instead of throwing, so a bench can count refusals; only an
 * unreachable server throws.
 */
export function apiSession(base: string) {
  let http = createHttpClient({ baseUrl: base });
  async function call<T>(
    method: 'GET' | 'POST' | 'PATCH',
    path: string,
    body?: object,
  ): Promise<{ status: number; json: T; text: string }> {
    try {
      const res = await http.request<T>(method, path, body ? { body } : {});
      return { status: res.status, json: res.data, text: JSON.stringify(res.data ?? null) };
    } catch (err) {
      if (!(err instanceof ApiError) || err.status === 0) throw err;
      return { status: err.status, json: null as T, text: `${err.code}: ${err.message}` };
    }
  }
  async function login(username: string, password: string): Promise<void> {
    const { credential } = await signIn(createHttpClient({ baseUrl: base }), { username, password });
    http = createHttpClient({ baseUrl: base, credential });
  }
  // Typed reads that must succeed (an ApiError otherwise).
  const api = () => createApi(http);
  return {
    call,
    login,
    environments: async (app: string) =>
      (await api().call('GET /api/v1/apps/:app/environments', { params: { app } })).items,
    environment: (app: string, env: string) =>
      api().call('GET /api/v1/apps/:app/environments/:env', { params: { app, env } }),
    deployment: (id: string) => api().call('GET /api/v1/deployments/:id', { params: { id } }),
  };
}

/** The `Cookie` header of a new session of `username` (benches that send raw requests). */
/** Until the demo's releases are live in every environment and no deployment is at work. */
export async function waitDemoLive(base: string, cookie: string, timeoutMs = 120_000): Promise<Buffer> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await request(`${base}/api/v1/apps/qubot-one/environments`, { headers: { cookie } });
    const body = Buffer.from(await res.body.arrayBuffer());
    const envs = (JSON.parse(body.toString()) as { items: { live: unknown; activeDeployment: unknown }[] })
      .items;
    if (envs.every((e) => e.live && !e.activeDeployment)) return body;
    if (Date.now() > deadline) throw new Error(`demo deployments did not finish in ${timeoutMs / 1000} s`);
    await sleep(500);
  }
}

export async function sessionCookie(base: string, username: string, password: string): Promise<string> {
  const { credential } = await signIn(createHttpClient({ baseUrl: base }), { username, password });
  return authHeaders(credential, 'GET').cookie ?? '';
}
