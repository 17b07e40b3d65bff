// Integration-test harness: the API with a real worker (pg-boss, local driver, routers) on a
// fresh database and a temporary data directory. close() stops every process it started.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { buildTestApp } from '../../../../test/app.ts';
import { REPO_ROOT } from '../demo.ts';
import type { RoleName } from '../lib/request-context.ts';
import { createOrchestrator, type OrchestratorOptions } from './orchestrator.ts';

export const APP = 'qubot-one';

export async function startHarness(
  opts: {
    role?: RoleName;
    worker?: boolean;
    healthMonitorIntervalMs?: number;
    reconcileIntervalMs?: number;
    routingTimeoutMs?: number;
  } = {},
) {
  const dataDir = mkdtempSync(join(tmpdir(), 'qubot-orch-'));
  const t = await buildTestApp({
    app: {
      orchestrator: {
        worker: opts.worker ?? true,
        dataDir,
        workspaceDir: REPO_ROOT,
        sweepIntervalMs: 1_000,
        healthIntervalMs: 150,
        stopTimeoutMs: 3_000,
        healthMonitorIntervalMs: opts.healthMonitorIntervalMs ?? 300,
        reconcileIntervalMs: opts.reconcileIntervalMs ?? 500,
        ...(opts.routingTimeoutMs ? { routingTimeoutMs: opts.routingTimeoutMs } : {}),
      },
    },
  });
  const auth = await t.as(opts.role ?? 'release-manager');
  const post = async (url: string, payload: object = {}, headers: Record<string, string> = {}) =>
    t.app.inject({ method: 'POST', url: `/api/v1${url}`, payload, headers: { ...auth, ...headers } });
  const get = async (url: string) => {
    const res = await t.app.inject({ method: 'GET', url: `/api/v1${url}`, headers: auth });
    expect(res.statusCode, res.body).toBe(200);
    return res.json();
  };
  const deployment = (id: string) => get(`/deployments/${id}`);
  const environment = (env: string) => get(`/apps/${APP}/environments/${env}`);

  /** Polls until the deployment reaches one of `statuses` (fails fast on another final status). */
  async function until(id: string, statuses: string[], timeout = 60_000) {
    const deadline = Date.now() + timeout;
    for (;;) {
      const d = await deployment(id);
      if (statuses.includes(d.status))
        return d as Record<string, unknown> & { status: string; waitingFor: string | null };
      if (Date.now() > deadline)
        throw new Error(
          `deployment ${id} is ${d.status}, not ${statuses.join('|')}: ${JSON.stringify(d.steps)}`,
        );
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** A reason is given unless the body says otherwise (protected environments require one). */
  async function deploy(env: string, body: object, expected = 202) {
    const res = await post(`/apps/${APP}/environments/${env}/deployments`, { reason: 'test', ...body });
    expect(res.statusCode, res.body).toBe(expected);
    return res.json();
  }

  return {
    ...t,
    dataDir,
    auth,
    post,
    get,
    deployment,
    environment,
    until,
    deploy,
    async close() {
      await t.app.orchestrator.stop();
      await t.app.orchestrator.runtime.stopEverything();
      await t.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
export type Harness = Awaited<ReturnType<typeof startHarness>>;

/**
 * A worker beside an API-only harness (`startHarness({ worker: false })`), in this process, on the
 * harness's database and runtime directory; started. Stop it with `stop()`.
 */
export async function startWorker(h: Harness, opts: Partial<OrchestratorOptions> = {}) {
  const worker = createOrchestrator({
    db: h.db,
    dataDir: h.dataDir,
    worker: true,
    workspaceDir: REPO_ROOT,
    log: h.app.log,
    healthIntervalMs: 150,
    stopTimeoutMs: 3_000,
    ...opts,
  });
  await worker.start();
  return worker;
}

/** Short timings so a test runs in seconds, not minutes. */
export const FAST = {
  healthTimeoutSeconds: 20,
};

/** A separate control-plane process in the worker role, on the harness's database and data directory. */
export function startWorkerProcess(h: Pick<Harness, 'db' | 'dataDir'>): ChildProcess {
  return spawn(
    process.execPath,
    ['--import', 'tsx', join(REPO_ROOT, 'apps/api/src/main.ts'), '--role', 'worker', '--port', '0'],
    {
      cwd: REPO_ROOT,
      env: { ...process.env, DATABASE_URL: h.db.url, QUBOT_DATA_DIR: h.dataDir, LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
}
