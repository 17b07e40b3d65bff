// Promotion policies through the API: editing (admin), pausing (one click), bad input, the
// automatic deployment the tests_passed rule makes (audited as policy:<env>), freeze windows, and
// two evaluators in two "processes" (two apps, two connection pools) racing for one release.
import { createDatabase } from '@qubot/db';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp } from '../../../../test/app.ts';
import { buildApp } from '../app.ts';

let t: Awaited<ReturnType<typeof buildTestApp>>;
beforeAll(async () => {
  t = await buildTestApp();
});
afterAll(async () => {
  await t.close();
});

const BASE = '/api/v1/apps/qubot-one';
const envId = async (name: string) =>
  (await t.db.prisma.environment.findFirstOrThrow({ where: { name }, select: { id: true } })).id;
const policyOf = async (env: string) => {
  const res = await t.app.inject({ method: 'GET', url: `${BASE}/policies`, headers: await t.as('viewer') });
  expect(res.statusCode, res.body).toBe(200);
  return res.json().items.find((i: { environment: string }) => i.environment === env);
};
const put = async (env: string, payload: object, role: 'admin' | 'release-manager' = 'admin') =>
  t.app.inject({
    method: 'PUT',
    url: `${BASE}/environments/${env}/policy`,
    headers: await t.as(role),
    payload,
  });
const registerRelease = async (version: string, testResults?: object) => {
  const res = await t.app.inject({
    method: 'POST',
    url: `${BASE}/releases`,
    headers: await t.as('release-manager'),
    payload: { version, artifact: 'qubot-one/healthy', ...(testResults ? { testResults } : {}) },
  });
  expect(res.statusCode, res.body).toBe(201);
};
const abortActive = async (env: string) => {
  const active = await t.db.prisma.deployment.findFirst({
    where: { environment: { name: env }, status: { in: ['pending', 'running', 'paused'] } },
  });
  if (!active) return;
  const res = await t.app.inject({
    method: 'POST',
    url: `/api/v1/deployments/${active.id}/abort`,
    headers: await t.as('release-manager'),
    payload: { reason: 'test' },
  });
  expect(res.statusCode, res.body).toBe(200);
};

describe('[policies] editing and pausing', () => {
  it('every environment starts manual; the rule follows the position', async () => {
    const res = await t.app.inject({ method: 'GET', url: `${BASE}/policies`, headers: await t.as('viewer') });
    expect(res.statusCode).toBe(200);
    const items = res.json().items;
    expect(items.map((i: { environment: string }) => i.environment)).toEqual([
      'development',
      'staging',
      'production',
    ]);
    expect(items.map((i: { policy: { rule: string } }) => i.policy.rule)).toEqual([
      'tests_passed',
      'soak',
      'soak',
    ]);
    expect(
      items.every(
        (i: { policy: { mode: string }; next: { state: string } }) =>
          i.policy.mode === 'manual' && i.next.state === 'manual',
      ),
    ).toBe(true);
    // Production is protected: an automatic policy there only requests.
    expect(items[2].policy.requestsApproval).toBe(true);
    expect(items[0].policy.requestsApproval).toBe(false);
  });

  it('bad input is a 400 naming the field', async () => {
    const missing = await put('staging', {});
    expect(missing.statusCode).toBe(400);
    expect(missing.json().error.details.field).toContain('mode');
    const soak = await put('staging', { mode: 'auto', soakSeconds: -1 });
    expect(soak.statusCode).toBe(400);
    expect(soak.json().error.details.field).toContain('soakSeconds');
    const opts = await put('staging', { mode: 'auto', strategy: 'canary', options: { steps: 'lots' } });
    expect(opts.statusCode).toBe(400);
    expect(opts.json().error.details.field).toBe('body.options.steps');
    const unknown = await put('staging', { mode: 'auto', colour: 'blue' });
    expect(unknown.statusCode).toBe(400);
    // A protected environment's policy changes only with a reason.
    const noReason = await put('production', { mode: 'auto' });
    expect(noReason.statusCode).toBe(400);
    expect(noReason.json().error.details.field).toBe('body.reason');
    expect((await policyOf('staging')).policy.mode).toBe('manual');
  });

  it('only an admin edits a policy; a release-manager pauses it, a deployer may not', async () => {
    expect((await put('staging', { mode: 'auto' }, 'release-manager')).statusCode).toBe(403);
    const deployer = await t.app.inject({
      method: 'POST',
      url: `${BASE}/environments/staging/policy/pause`,
      headers: await t.as('deployer'),
      payload: {},
    });
    expect(deployer.statusCode).toBe(403);
  });

  it('an admin sets staging automatic (audited, announced); one click pauses and resumes it', async () => {
    const seqBefore = (await t.db.prisma.eventCounter.findUniqueOrThrow({ where: { id: 1 } })).value;
    const res = await put('staging', { mode: 'auto', soakSeconds: 120, strategy: 'rolling' });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().policy).toMatchObject({
      mode: 'auto',
      soakSeconds: 120,
      strategy: 'rolling',
      updatedBy: 'admin',
    });
    const audit = await t.db.prisma.auditEntry.findFirstOrThrow({
      where: { action: 'policy.update' },
      orderBy: { at: 'desc' },
    });
    expect(audit).toMatchObject({ actor: 'admin', target: 'qubot-one/staging' });
    expect(audit.after).toMatchObject({ mode: 'auto', soakSeconds: 120 });
    const ev = await t.db.prisma.event.findFirst({
      where: { seq: { gt: seqBefore }, type: 'environment.updated', environmentId: await envId('staging') },
    });
    expect(ev).not.toBeNull();

    const paused = await t.app.inject({
      method: 'POST',
      url: `${BASE}/environments/staging/policy/pause`,
      headers: await t.as('release-manager'),
      payload: { reason: 'incident' },
    });
    expect(paused.statusCode, paused.body).toBe(200);
    expect(paused.json().policy).toMatchObject({ paused: true, pausedBy: 'release-manager', mode: 'auto' });
    expect(paused.json().next.state).toBe('paused');
    expect((await policyOf('staging')).next.state).toBe('paused');
    const resumed = await t.app.inject({
      method: 'POST',
      url: `${BASE}/environments/staging/policy/resume`,
      headers: await t.as('release-manager'),
      payload: {},
    });
    expect(resumed.json().policy.paused).toBe(false);
    const actions = await t.db.prisma.auditEntry.findMany({
      where: { action: { in: ['policy.pause', 'policy.resume'] } },
      orderBy: { at: 'asc' },
    });
    expect(actions.map((a) => [a.action, a.actor, a.reason])).toEqual([
      ['policy.pause', 'release-manager', 'incident'],
      ['policy.resume', 'release-manager', null],
    ]);
    // Back to manual for the tests below.
    expect((await put('staging', { mode: 'manual' })).statusCode).toBe(200);
  });
});

describe('[policies] the tests_passed rule', () => {
  it('deploys the newest release whose tests passed, once, as policy:development, with the rule', async () => {
    const dev = await envId('development');
    // Manual: nothing happens.
    expect((await t.app.policies.evaluate(dev)).deploymentId).toBeNull();
    expect((await put('development', { mode: 'auto', strategy: 'rolling' })).statusCode).toBe(200);
    // Paused: nothing happens either.
    await t.app.inject({
      method: 'POST',
      url: `${BASE}/environments/development/policy/pause`,
      headers: await t.as('release-manager'),
      payload: {},
    });
    const whilePaused = await t.app.policies.evaluate(dev);
    expect(whilePaused).toMatchObject({ deploymentId: null, next: { state: 'paused' } });
    await t.app.inject({
      method: 'POST',
      url: `${BASE}/environments/development/policy/resume`,
      headers: await t.as('release-manager'),
      payload: {},
    });

    await registerRelease('5.0.0', { passed: 42, failed: 0 });
    const first = await t.app.policies.evaluate(dev);
    expect(first.deploymentId).not.toBeNull();
    const d = await t.db.prisma.deployment.findUniqueOrThrow({
      where: { id: first.deploymentId as string },
      include: { release: true },
    });
    expect(d).toMatchObject({ actor: 'policy:development', strategy: 'rolling', kind: 'deploy' });
    expect(d.release.version).toBe('5.0.0');
    expect(d.reason).toContain('tests_passed');
    const audit = await t.db.prisma.auditEntry.findFirstOrThrow({
      where: { targetId: d.id },
    });
    expect(audit).toMatchObject({ actor: 'policy:development', action: 'deployment.create' });
    expect(audit.after).toMatchObject({ version: '5.0.0', policy: { rule: 'tests_passed' } });
    expect(await t.db.prisma.policyRun.count({ where: { environmentId: dev } })).toBe(1);

    // Again (and after the deployment ends): never a second deployment of the same release.
    await abortActive('development');
    const again = await t.app.policies.evaluate(dev);
    expect(again.deploymentId).toBeNull();
    expect(again.next.state).toBe('idle');
    expect(
      await t.db.prisma.deployment.count({ where: { environmentId: dev, release: { version: '5.0.0' } } }),
    ).toBe(1);
  });

  it('a release whose tests failed (or that reported none) is not deployed', async () => {
    const dev = await envId('development');
    await registerRelease('5.0.1', { passed: 40, failed: 2 });
    const failed = await t.app.policies.evaluate(dev);
    expect(failed.deploymentId).toBeNull();
    expect(failed.next).toMatchObject({ state: 'idle', version: '5.0.1' });
    await registerRelease('5.0.2');
    expect((await t.app.policies.evaluate(dev)).deploymentId).toBeNull();
    expect(await t.db.prisma.deployment.count({ where: { environmentId: dev } })).toBe(1);
  });

  it('a freeze window holds the policy; the card says so; it deploys once the window is gone', async () => {
    const dev = await envId('development');
    await registerRelease('5.1.0', { passed: 10, failed: 0 });
    const win = await t.app.inject({
      method: 'POST',
      url: `${BASE}/environments/development/freeze-windows`,
      headers: await t.as('release-manager'),
      payload: {
        reason: 'release party',
        startsAt: new Date(Date.now() - 60_000).toISOString(),
        endsAt: new Date(Date.now() + 3_600_000).toISOString(),
      },
    });
    expect(win.statusCode, win.body).toBe(201);
    const held = await t.app.policies.evaluate(dev);
    expect(held.deploymentId).toBeNull();
    expect(held.next).toMatchObject({ state: 'blocked', version: '5.1.0' });
    expect(held.next.blockedBy).toContain('release party');
    expect((await policyOf('development')).next.blockedBy).toContain('release party');
    const del = await t.app.inject({
      method: 'DELETE',
      url: `${BASE}/environments/development/freeze-windows/${win.json().id}`,
      headers: await t.as('release-manager'),
    });
    expect(del.statusCode).toBe(200);
    const went = await t.app.policies.evaluate(dev);
    expect(went.deploymentId).not.toBeNull();
    await abortActive('development');
  });

  it('staging waits while nothing has gone live in development (the soak rule needs a success there)', async () => {
    const staging = await envId('staging');
    expect((await put('staging', { mode: 'auto', soakSeconds: 0 })).statusCode).toBe(200);
    const r = await t.app.policies.evaluate(staging);
    expect(r.deploymentId).toBeNull();
    expect(r.next.state).toBe('idle');
    expect(await t.db.prisma.deployment.count({ where: { environmentId: staging } })).toBe(0);
    expect((await put('staging', { mode: 'manual' })).statusCode).toBe(200);
  });
});

describe('[policies] race: two evaluators in two processes', () => {
  it('exactly one automatic deployment per release and environment; each reports what was served', async () => {
    const dev = await envId('development');
    const other = createDatabase(t.db.url, { max: 5 });
    const second = await buildApp({
      db: other,
      orchestrator: { worker: false },
      backups: { schedule: false },
    });
    await second.ready();
    try {
      for (const version of ['6.0.0', '6.0.1', '6.0.2']) {
        await registerRelease(version, { passed: 5, failed: 0 });
        const results = await Promise.all([t.app.policies.evaluate(dev), second.policies.evaluate(dev)]);
        const winners = results.filter((r) => r.deploymentId !== null);
        expect(winners).toHaveLength(1);
        const loser = results.find((r) => r.deploymentId === null);
        expect(loser?.next.state).toMatch(/blocked|idle/);
        const served = await t.db.prisma.deployment.findMany({
          where: { environmentId: dev, release: { version } },
          select: { id: true, actor: true },
        });
        expect(served).toEqual([{ id: winners[0]?.deploymentId, actor: 'policy:development' }]);
        expect(
          await t.db.prisma.policyRun.count({ where: { environmentId: dev, release: { version } } }),
        ).toBe(1);
        await abortActive('development');
      }

      // The worst interleaving: the second evaluator decided before the first deployment existed,
      // and acts only after it already finished. The claim (not the active-deployment check)
      // refuses it.
      let release!: () => void;
      const gate = new Promise<void>((r) => {
        release = r;
      });
      let decided!: () => void;
      const hasDecided = new Promise<void>((r) => {
        decided = r;
      });
      const slow = await buildApp({
        db: other,
        orchestrator: { worker: false },
        backups: { schedule: false },
        policies: {
          hooks: {
            afterDecide: async () => {
              decided();
              await gate;
            },
          },
        },
      });
      await slow.ready();
      try {
        await registerRelease('6.1.0', { passed: 5, failed: 0 });
        const late = slow.policies.evaluate(dev);
        await hasDecided;
        const first = await t.app.policies.evaluate(dev);
        expect(first.deploymentId).not.toBeNull();
        await abortActive('development');
        release();
        const lost = await late;
        expect(lost.deploymentId).toBeNull();
        expect(lost.next.blockedBy).toContain('already deployed 6.1.0');
        expect(
          await t.db.prisma.deployment.count({
            where: { environmentId: dev, release: { version: '6.1.0' } },
          }),
        ).toBe(1);
      } finally {
        await slow.close();
      }
    } finally {
      await second.close();
      await other.close();
    }
  });
});
