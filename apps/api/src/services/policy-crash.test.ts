// A worker killed (SIGKILL) while its promotion policy acts: after deciding but before writing,
// and with the deployment and its claim written but not committed. Either way, the next
// evaluation (a worker's start-up sweep) makes exactly one deployment: nothing lost, nothing doubled.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { createDatabase } from '@qubot/db';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp } from '../../../../test/app.ts';
import { buildApp } from '../app.ts';
import { REPO_ROOT } from '../demo.ts';

let t: Awaited<ReturnType<typeof buildTestApp>>;
beforeAll(async () => {
  t = await buildTestApp();
  const res = await t.app.inject({
    method: 'PUT',
    url: '/api/v1/apps/qubot-one/environments/development/policy',
    headers: await t.as('admin'),
    payload: { mode: 'auto', strategy: 'rolling' },
  });
  expect(res.statusCode, res.body).toBe(200);
});
afterAll(async () => {
  await t.close();
});

async function killAt(point: 'after-decide' | 'before-commit'): Promise<void> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(REPO_ROOT, 'test/policy-child.ts'), t.db.url, point, 'development'],
    { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stderr = '';
  child.stderr.on('data', (d) => {
    stderr += d;
  });
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_c, s) => resolve(s)));
  let reached = false;
  for await (const line of createInterface({ input: child.stdout })) {
    if (line === `at ${point}`) {
      reached = true;
      child.kill('SIGKILL');
      break;
    }
    if (line.startsWith('done')) break;
  }
  expect(reached, `the child did not reach ${point}: ${stderr}`).toBe(true);
  expect(await exited).toBe('SIGKILL');
}

const registerRelease = async (version: string) => {
  const res = await t.app.inject({
    method: 'POST',
    url: '/api/v1/apps/qubot-one/releases',
    headers: await t.as('release-manager'),
    payload: { version, artifact: 'qubot-one/healthy', testResults: { passed: 3, failed: 0 } },
  });
  expect(res.statusCode, res.body).toBe(201);
};
const countFor = async (version: string) => ({
  deployments: await t.db.prisma.deployment.count({ where: { release: { version } } }),
  runs: await t.db.prisma.policyRun.count({ where: { release: { version } } }),
  audit: await t.db.prisma.auditEntry.count({
    where: {
      actor: 'policy:development',
      target: 'qubot-one/development',
      after: { path: ['version'], equals: version },
    },
  }),
});

/** A worker process starting: its runner sweeps at once; resolves after that first sweep. */
async function startWorkerSweep() {
  const db = createDatabase(t.db.url, { max: 3 });
  const worker = await buildApp({
    db,
    orchestrator: { worker: false },
    backups: { schedule: false },
    policies: { run: true, safetyIntervalMs: 60_000 },
  });
  const runner = worker.policies.runner;
  if (!runner) throw new Error('the runner should run');
  const swept = runner.nextSweep();
  await worker.ready();
  await swept;
  return {
    async close() {
      await worker.close();
      await db.close();
    },
  };
}

const abortActive = async () => {
  const active = await t.db.prisma.deployment.findFirst({
    where: { status: { in: ['pending', 'running', 'paused'] } },
  });
  if (active)
    await t.app.inject({
      method: 'POST',
      url: `/api/v1/deployments/${active.id}/abort`,
      headers: await t.as('release-manager'),
      payload: {},
    });
};

describe('[policies] crash safety (SIGKILL of a real process)', () => {
  it.each(['after-decide', 'before-commit'] as const)(
    'killed %s: nothing half-written, and the next worker deploys the release exactly once',
    async (point) => {
      const version = `8.0.${point === 'after-decide' ? 0 : 1}`;
      await registerRelease(version);
      await killAt(point);
      // The killed transaction left nothing: no deployment, no claim, no audit entry.
      expect(await countFor(version)).toEqual({ deployments: 0, runs: 0, audit: 0 });

      const worker = await startWorkerSweep();
      try {
        expect(await countFor(version)).toEqual({ deployments: 1, runs: 1, audit: 1 });
        // Another evaluation (another worker, a later sweep) does not double it.
        const again = await t.app.policies.evaluate(
          (await t.db.prisma.environment.findFirstOrThrow({ where: { name: 'development' } })).id,
        );
        expect(again.deploymentId).toBeNull();
        expect(await countFor(version)).toEqual({ deployments: 1, runs: 1, audit: 1 });
      } finally {
        await worker.close();
        await abortActive();
      }
    },
    60_000,
  );
});
