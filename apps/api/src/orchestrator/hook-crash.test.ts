// The control plane is killed with SIGKILL while a pre-deployment hook runs. After a restart the
// deployment must not move traffic without the hook having succeeded, and the lost run must not
// be counted as passed: it is recorded `interrupted` (its process stopped) and the deployment
// fails before anything starts.
import type { ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Environment } from '@qubot/api-contract';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Orchestrator } from './orchestrator.ts';
import { APP, FAST, type Harness, spawnWorkerProcess, startHarness, startWorker } from './test-helpers.ts';

let h: Harness;
let worker: ChildProcess | null = null;
let resumer: Orchestrator | null = null;
const ENV = 'development';
const FINAL = ['succeeded', 'failed', 'rolled_back', 'aborted'];

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

beforeAll(async () => {
  // This process only enqueues; the worker is the child killed below.
  h = await startHarness({ worker: false });
  worker = spawnWorkerProcess(h);
  const d = await h.deploy(ENV, { version: '1.0.0', strategy: 'blue-green', options: FAST });
  expect((await h.until(d.id, FINAL, 90_000)).status).toBe('succeeded');
}, 120_000);

afterAll(async () => {
  if (worker && worker.exitCode === null) worker.kill('SIGKILL');
  await resumer?.stop();
  await h?.close();
});

it('[HOOKS] SIGKILL while a pre-hook runs: after restart the hook is interrupted, not passed, and no traffic moves', async () => {
  // The `wait` job runs until this file exists; it never will before the kill.
  const gate = join(h.dataDir, 'never-released');
  const put = await h.app.inject({
    method: 'PUT',
    url: `/api/v1/apps/${APP}/environments/${ENV}/config`,
    headers: await h.as('admin'),
    payload: { entries: [{ key: 'HOOK_WAIT_FILE', value: gate }] },
  });
  expect(put.statusCode, put.body).toBe(201);
  const hooks = await h.app.inject({
    method: 'PUT',
    url: `/api/v1/apps/${APP}/environments/${ENV}/hooks`,
    headers: await h.as('admin'),
    payload: { pre: { job: 'wait', timeoutSeconds: 600 }, post: null },
  });
  expect(hooks.statusCode, hooks.body).toBe(200);
  const before = (await h.environment(ENV)) as Environment;

  const d = await h.deploy(ENV, { version: '1.1.0', strategy: 'blue-green', options: FAST });
  // The worst moment: the hook's process is up and writing, its run not finished.
  await expect
    .poll(
      async () => {
        const run = await h.db.prisma.hookRun.findFirst({ where: { deploymentId: d.id } });
        return run?.pid && run.logPath && existsSync(run.logPath)
          ? readFileSync(run.logPath, 'utf8').includes('waiting for')
          : false;
      },
      { timeout: 30_000, interval: 50 },
    )
    .toBe(true);
  const run = await h.db.prisma.hookRun.findFirstOrThrow({ where: { deploymentId: d.id } });
  expect(run.status).toBe('running');
  worker?.kill('SIGKILL');
  await new Promise<void>((resolve) => worker?.once('exit', () => resolve()));
  // The job outlives the control plane that started it (its own process group).
  expect(alive(run.pid as number)).toBe(true);

  resumer = await startWorker(h, { effectiveConfig: h.app.services.effectiveConfig });
  const done = await h.until(d.id, FINAL, 60_000);
  expect(done.status).toBe('failed');
  expect(done.error).toContain('interrupted');
  const runs = await h.db.prisma.hookRun.findMany({ where: { deploymentId: d.id } });
  expect(runs.map((r) => r.status)).toEqual(['interrupted']);
  // The orphaned job was stopped, so it cannot finish unobserved.
  await expect.poll(() => alive(run.pid as number), { timeout: 10_000 }).toBe(false);
  // Nothing of 1.1.0 started; traffic never moved.
  expect(await h.db.prisma.instance.count({ where: { deploymentId: d.id } })).toBe(0);
  const after = (await h.environment(ENV)) as Environment;
  expect(after.live?.version).toBe('1.0.0');
  expect(after.traffic).toEqual(before.traffic);
  const steps = done.steps as { name: string; status: string }[];
  expect(steps[0]).toMatchObject({ name: 'Pre-deployment hook: wait', status: 'failed' });
  expect(steps.find((s) => s.name.startsWith('Switch traffic'))?.status).toBe('skipped');
}, 150_000);
