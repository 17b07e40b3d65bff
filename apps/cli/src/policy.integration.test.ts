// End to end, as CI runs it: `qubot release create` (a real CLI process) registers a release with
// its test results; the promotion policies (a real worker: real instances, routers, health checks)
// deploy it to development, promote it to staging after the soak, and request production, which
// waits for approval. `--wait ENV` turns each outcome into the documented exit code.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Harness } from '../../api/src/orchestrator/test-helpers.ts';
import { ExitCode } from './exit-utils.ts';
import { startPolicyServer } from './test-policy-server.ts';

const SOAK_SECONDS = 2;

let s: Awaited<ReturnType<typeof startPolicyServer>>;
let h: Harness;

beforeAll(async () => {
  s = await startPolicyServer('policy');
  h = s.h;
  const admin = s.admin;
  // One instance per environment keeps the test quick; the policies: development deploys what
  // passed its tests, staging promotes after a short soak, production (protected) requests.
  for (const env of ['development', 'staging', 'production']) {
    const scale = await h.app.inject({
      method: 'PATCH',
      url: `/api/v1/apps/qubot-one/environments/${env}/settings`,
      headers: admin,
      payload: { replicas: 1, reason: 'test' },
    });
    expect(scale.statusCode, scale.body).toBe(200);
    const set = await h.app.inject({
      method: 'PUT',
      url: `/api/v1/apps/qubot-one/environments/${env}/policy`,
      headers: admin,
      payload: {
        mode: 'auto',
        strategy: 'blue-green',
        soakSeconds: SOAK_SECONDS,
        options: { healthTimeoutSeconds: 30, rollbackWindowSeconds: 0 },
        reason: 'CI promotes automatically',
      },
    });
    expect(set.statusCode, set.body).toBe(200);
  }
  // Nothing to do before the test's release (startPolicyServer: the newest reported no tests).
  const policies = await h.app.inject({
    method: 'GET',
    url: '/api/v1/apps/qubot-one/policies',
    headers: admin,
  });
  expect(policies.json().items.map((p: { next: { state: string } }) => p.next.state)).toEqual([
    'idle',
    'idle',
    'idle',
  ]);
}, 60_000);

afterAll(async () => {
  await s?.close();
});

const qubot = (args: string[]) => s.cli.run(args);

describe('[CI] release create → policies → production waits for approval', () => {
  it('registers with test results, waits until live in staging (0), then production waits for approval (8)', async () => {
    const created = await qubot([
      'release',
      'create',
      '--version',
      '10.0.0',
      '--artifact',
      'qubot-one/healthy',
      '--tests-passed',
      '12',
      '--tests-failed',
      '0',
      '--wait',
      'staging',
      '--timeout',
      '240',
    ]);
    expect(created.code, created.stderr + created.stdout).toBe(ExitCode.Ok);
    expect(created.stdout).toContain('registered qubot-one 10.0.0');
    expect(created.stdout).toContain('10.0.0 in development: live');
    expect(created.stdout).toContain('10.0.0 is live in staging');

    const prod = await qubot([
      'release',
      'wait',
      '10.0.0',
      '--wait',
      'production',
      '--timeout',
      '120',
      '--json',
    ]);
    expect(prod.code, prod.stderr + prod.stdout).toBe(ExitCode.WaitingForApproval);
    expect(JSON.parse(prod.stdout)).toMatchObject({
      version: '10.0.0',
      environment: 'production',
      exitCode: 8,
    });

    // What the server holds: one automatic deployment per environment, each by its policy.
    const deployments = await h.db.prisma.deployment.findMany({
      where: { release: { version: '10.0.0' } },
      include: { environment: true },
      orderBy: { createdAt: 'asc' },
    });
    expect(deployments.map((d) => [d.environment.name, d.actor, d.status])).toEqual([
      ['development', 'policy:development', 'succeeded'],
      ['staging', 'policy:staging', 'succeeded'],
      ['production', 'policy:production', 'paused'],
    ]);
    const [dev, staging, production] = deployments as [
      (typeof deployments)[0],
      (typeof deployments)[0],
      (typeof deployments)[0],
    ];
    expect(production.waitingFor).toBe('approval');
    // The soak: staging started no sooner than SOAK_SECONDS after development went live.
    expect(staging.createdAt.getTime() - (dev.finishedAt as Date).getTime()).toBeGreaterThanOrEqual(
      SOAK_SECONDS * 1000,
    );
    // Each audited as done by the policy, with the rule that fired.
    const audit = await h.db.prisma.auditEntry.findMany({
      where: { targetId: { in: deployments.map((d) => d.id) } },
      orderBy: { at: 'asc' },
    });
    expect(
      audit.map((a) => [a.actor, a.action, (a.after as { policy?: { rule?: string } }).policy?.rule]),
    ).toEqual([
      ['policy:development', 'deployment.create', 'tests_passed'],
      ['policy:staging', 'environment.promote', 'soak'],
      ['policy:production', 'environment.promote', 'soak'],
    ]);
    // The card's sentence for production now: nothing more to do until a person approves.
    const policies = await h.get('/apps/qubot-one/policies');
    expect(policies.items[2].next.state).toBe('idle');
  }, 300_000);
});
