// `--wait ENV` exit code 6 (docs/ci.md): a real CLI process registers a release whose instances
// never become healthy; development's policy (a real worker: real instances and health checks)
// deploys it, the deployment fails, and the wait ends with 6 instead of waiting for staging.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Harness } from '../../api/src/orchestrator/test-helpers.ts';
import { ExitCode } from './exit-utils.ts';
import { startPolicyServer } from './test-policy-server.ts';

let s: Awaited<ReturnType<typeof startPolicyServer>>;
let h: Harness;

beforeAll(async () => {
  s = await startPolicyServer('wait-failed');
  h = s.h;
  const scale = await h.app.inject({
    method: 'PATCH',
    url: '/api/v1/apps/qubot-one/environments/development/settings',
    headers: s.admin,
    payload: { replicas: 1, reason: 'test' },
  });
  expect(scale.statusCode, scale.body).toBe(200);
  const set = await h.app.inject({
    method: 'PUT',
    url: '/api/v1/apps/qubot-one/environments/development/policy',
    headers: s.admin,
    payload: {
      mode: 'auto',
      strategy: 'blue-green',
      options: { healthTimeoutSeconds: 3, rollbackWindowSeconds: 0 },
      reason: 'CI deploys automatically',
    },
  });
  expect(set.statusCode, set.body).toBe(200);
}, 60_000);

afterAll(async () => {
  await s?.close();
});

describe('[CI] release create --wait: a deployment that fails on the way', () => {
  it('exits 6 with the environment where it failed, as soon as development fails (not at the timeout)', async () => {
    const started = Date.now();
    const created = await s.cli.run([
      'release',
      'create',
      '--version',
      '11.0.0-broken',
      '--artifact',
      'qubot-one/never-healthy',
      '--tests-passed',
      '3',
      '--tests-failed',
      '0',
      '--wait',
      'staging',
      '--timeout',
      '240',
      '--json',
    ]);
    expect(created.code, created.stderr + created.stdout).toBe(ExitCode.DeploymentFailed);
    const out = JSON.parse(created.stdout) as { exitCode: number; message: string; environment: string };
    expect(out).toMatchObject({ exitCode: 6, environment: 'staging' });
    expect(out.message).toMatch(
      /^qubot-one 11\.0\.0-broken (failed|rolled back) in development; it will not reach staging$/,
    );
    expect(Date.now() - started).toBeLessThan(200_000);

    // The served state is what the CLI reported: development's policy deployment of it failed,
    // and nothing of it went further.
    const deployments = await h.db.prisma.deployment.findMany({
      where: { release: { version: '11.0.0-broken' } },
      include: { environment: true },
    });
    expect(deployments.map((d) => [d.environment.name, d.actor])).toEqual([
      ['development', 'policy:development'],
    ]);
    expect(['failed', 'rolled_back']).toContain(deployments[0]?.status);
    expect(out.message).toContain((deployments[0]?.status ?? '').replace('_', ' '));

    // `release wait` for the same release says the same, at once.
    const again = await s.cli.run([
      'release',
      'wait',
      '11.0.0-broken',
      '--wait',
      'production',
      '--timeout',
      '30',
    ]);
    expect(again.code, again.stderr + again.stdout).toBe(ExitCode.DeploymentFailed);
    expect(again.stdout).toMatch(/in development; it will not reach production/);
  }, 300_000);
});
