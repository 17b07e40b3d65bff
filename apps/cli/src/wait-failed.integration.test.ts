// `--wait ENV` exit code 6 (docs/ci.md): a real CLI process registers a release whose instances
// never become healthy; development's policy (a real worker: real instances and health checks)
// deploys it, the deployment fails, and the wait ends with 6 instead of waiting for staging.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from '../../api/src/orchestrator/test-helpers.ts';
import { createCliRunner } from './cli-process.ts';
import { ExitCode } from './exit-utils.ts';

let h: Harness;
let server: string;
let token: string;
let home: string;

beforeAll(async () => {
  h = await startHarness({ policies: { run: true, coalesceMs: 100 } });
  await h.app.listen({ port: 0, host: '127.0.0.1' });
  server = `http://127.0.0.1:${(h.app.server.address() as { port: number }).port}`;
  const admin = await h.as('admin');
  const res = await h.app.inject({
    method: 'POST',
    url: '/api/v1/tokens',
    headers: admin,
    payload: { name: 'ci', role: 'release-manager' },
  });
  expect(res.statusCode, res.body).toBe(201);
  token = res.json().secret;
  home = await mkdtemp(join(tmpdir(), 'qubot-cli-wait-failed-'));
  const scale = await h.app.inject({
    method: 'PATCH',
    url: '/api/v1/apps/qubot-one/environments/development/settings',
    headers: admin,
    payload: { replicas: 1, reason: 'test' },
  });
  expect(scale.statusCode, scale.body).toBe(200);
  const set = await h.app.inject({
    method: 'PUT',
    url: '/api/v1/apps/qubot-one/environments/development/policy',
    headers: admin,
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
  cli.killAll();
  await h?.close();
  if (home) await rm(home, { recursive: true, force: true });
});

const cli = createCliRunner(() => ({
  HOME: home,
  QUBOT_SERVER: server,
  QUBOT_TOKEN: token,
  QUBOT_APP: 'qubot-one',
  QUBOT_RETRIES: undefined,
}));

describe('[CI] release create --wait: a deployment that fails on the way', () => {
  it('exits 6 with the environment where it failed, as soon as development fails (not at the timeout)', async () => {
    const started = Date.now();
    const created = await cli.run([
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
    const again = await cli.run([
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
