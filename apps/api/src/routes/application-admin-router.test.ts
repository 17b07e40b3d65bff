import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp } from '../../../../test/app.ts';

let t: Awaited<ReturnType<typeof buildTestApp>>;
beforeAll(async () => {
  t = await buildTestApp();
});
afterAll(async () => {
  await t.close();
});

const LAUNCHER =
  'node --import tsx apps/qubot-one/src/main.ts --artifact {artifact} --port {port} --pool {pool}';
const newApp = (name: string, extra: Record<string, unknown> = {}) => ({
  name,
  description: 'Security tests',
  launcher: LAUNCHER,
  launcherCwd: '.',
  environments: [
    { name: 'development', replicas: 1 },
    { name: 'production', protected: true, requiresApproval: true, replicas: 1 },
  ],
  ...extra,
});

describe('[security] POST /api/v1/apps (admin)', () => {
  it('refuses every role below admin, naming the role, and stores nothing', async () => {
    for (const role of ['viewer', 'deployer', 'release-manager'] as const) {
      const res = await t.app.inject({
        method: 'POST',
        url: '/api/v1/apps',
        headers: await t.as(role),
        payload: newApp('denied-app'),
      });
      expect(res.statusCode, role).toBe(403);
      expect(res.json().error.message).toBe('forbidden: needs admin to change settings');
      expect(res.json().error.details.permission).toBe('settings.manage');
    }
    expect(await t.db.prisma.application.findUnique({ where: { name: 'denied-app' } })).toBeNull();
  });

  it('creates the application and its pipeline in order, audited, with an event', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/apps',
      headers: await t.as('admin'),
      payload: newApp('qubot-sec'),
    });
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json()).toMatchObject({
      name: 'qubot-sec',
      description: 'Security tests',
      launcher: LAUNCHER,
      launcherCwd: '.',
      healthPath: '/healthz',
      environments: [
        { name: 'development', position: 0, protected: false, requiresApproval: false, replicas: 1 },
        { name: 'production', position: 1, protected: true, requiresApproval: true, replicas: 1 },
      ],
    });
    const id = res.json().id as string;
    const list = await t.app.inject({ method: 'GET', url: '/api/v1/apps', headers: await t.as('viewer') });
    const listed = list.json().items.find((a: { name: string }) => a.name === 'qubot-sec');
    expect(listed.environments).toEqual(['development', 'production']);
    // The launcher is admin configuration: not shown to every reader.
    expect(listed).not.toHaveProperty('launcher');
    const envs = await t.app.inject({
      method: 'GET',
      url: '/api/v1/apps/qubot-sec/environments',
      headers: await t.as('viewer'),
    });
    expect(envs.json().items.map((e: { name: string; protected: boolean }) => [e.name, e.protected])).toEqual(
      [
        ['development', false],
        ['production', true],
      ],
    );
    const audit = await t.db.prisma.auditEntry.findMany({ where: { action: 'application.create' } });
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ actor: 'admin', role: 'admin', target: 'qubot-sec', targetId: id });
    expect(audit[0]?.requestId).toBe(res.headers['x-request-id']);
    const events = await t.db.prisma.event.findMany({ where: { type: 'application.created' } });
    expect(events.map((e) => e.applicationId)).toEqual([id]);
  });

  it('answers 409 for a name that exists, leaving it unchanged', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/apps',
      headers: await t.as('admin'),
      payload: newApp('qubot-one', { launcher: 'node evil.js --port {port}' }),
    });
    expect(res.statusCode).toBe(409);
    expect(res.json().error.details.field).toBe('body.name');
    const row = await t.db.prisma.application.findUniqueOrThrow({ where: { name: 'qubot-one' } });
    expect(row.launcher).not.toContain('evil');
  });

  it('validates the body strictly, naming the field', async () => {
    const admin = await t.as('admin');
    const cases: [Record<string, unknown>, string][] = [
      [newApp('bad-1', { launcher: 'node main.js --port {prot}' }), 'body.launcher'],
      [newApp('bad-2', { launcher: 'node main.js\nrm -rf /' }), 'body.launcher'],
      [newApp('bad-3', { launcher: '{artifact} --port {port}' }), 'body.launcher'],
      [newApp('bad-4', { environments: [] }), 'body.environments'],
      [newApp('bad-5', { environments: [{ name: 'dev' }, { name: 'dev' }] }), 'body.environments[1].name'],
      [newApp('bad-6', { environments: [{ name: 'dev', replicas: 0 }] }), 'body.environments[0].replicas'],
      [newApp('bad-7', { healthPath: 'healthz' }), 'body.healthPath'],
      [newApp('bad-8', { surprise: true }), 'body.surprise'],
      [newApp('Bad Name'), 'body.name'],
    ];
    for (const [payload, field] of cases) {
      const res = await t.app.inject({ method: 'POST', url: '/api/v1/apps', headers: admin, payload });
      expect(res.statusCode, JSON.stringify(payload)).toBe(400);
      expect(res.json().error.details.field, res.body).toBe(field);
    }
    expect(await t.db.prisma.application.count({ where: { name: { startsWith: 'bad-' } } })).toBe(0);
  });
});

describe('[security] PATCH /api/v1/apps/:app/environments/:env/settings', () => {
  const url = '/api/v1/apps/qubot-one/environments/production/settings';

  it('lets a release-manager scale, but only an admin change protection or approval', async () => {
    const deployer = await t.app.inject({
      method: 'PATCH',
      url,
      headers: await t.as('deployer'),
      payload: { replicas: 3 },
    });
    expect(deployer.statusCode).toBe(403);
    expect(deployer.json().error.message).toBe(
      'forbidden: needs release-manager to scale environments in protected environment production',
    );
    const rm = await t.as('release-manager');
    const unprotect = await t.app.inject({
      method: 'PATCH',
      url,
      headers: rm,
      payload: { protected: false, replicas: 1 },
    });
    expect(unprotect.statusCode).toBe(403);
    expect(unprotect.json().error.message).toBe(
      'forbidden: needs admin to change settings in protected environment production',
    );
    let env = await t.db.prisma.environment.findFirstOrThrow({
      where: { name: 'production', application: { name: 'qubot-one' } },
    });
    expect([env.protected, env.replicas]).toEqual([true, 2]);

    // A protected environment's settings change takes a reason (audited).
    const bare = await t.app.inject({ method: 'PATCH', url, headers: rm, payload: { replicas: 3 } });
    expect(bare.statusCode, bare.body).toBe(400);
    expect(bare.json().error.details.field).toBe('body.reason');
    const scaled = await t.app.inject({
      method: 'PATCH',
      url,
      headers: rm,
      payload: { replicas: 3, reason: 'more load' },
    });
    expect(scaled.statusCode, scaled.body).toBe(200);
    expect(scaled.json()).toMatchObject({ name: 'production', replicas: 3, protected: true });

    const admin = await t.app.inject({
      method: 'PATCH',
      url,
      headers: await t.as('admin'),
      payload: { requiresApproval: true, replicas: 3, reason: 'two-person rule' },
    });
    expect(admin.statusCode, admin.body).toBe(200);
    expect(admin.json()).toMatchObject({ requiresApproval: true, replicas: 3 });
    env = await t.db.prisma.environment.findUniqueOrThrow({ where: { id: env.id } });
    expect([env.protected, env.requiresApproval, env.replicas]).toEqual([true, true, 3]);

    const audit = await t.db.prisma.auditEntry.findMany({
      where: { action: { in: ['environment.settings', 'environment.scale'] } },
      orderBy: { at: 'asc' },
    });
    // Only what changed is recorded (replicas was already 3 for the admin's request). A new replica
    // count is a scale (docs/scaling.md); with nothing live it only sets the count.
    expect(audit.map((a) => [a.action, a.actor, a.target, a.before, a.after, a.reason])).toEqual([
      [
        'environment.scale',
        'release-manager',
        'qubot-one/production',
        { replicas: 2, instances: 0 },
        { replicas: 3, live: null, pool: null },
        'more load',
      ],
      [
        'environment.settings',
        'admin',
        'qubot-one/production',
        { requiresApproval: false },
        { requiresApproval: true },
        'two-person rule',
      ],
    ]);
    const events = await t.db.prisma.event.findMany({
      where: { type: 'environment.updated', environmentId: env.id },
    });
    expect(events.length).toBe(2);
  });

  it('refuses empty or unknown changes and unknown environments', async () => {
    const admin = await t.as('admin');
    for (const payload of [
      {},
      { reason: 'nothing' },
      { replicas: 0 },
      { protected: 'yes' },
      { color: 'x' },
    ]) {
      const res = await t.app.inject({ method: 'PATCH', url, headers: admin, payload });
      expect(res.statusCode, JSON.stringify(payload)).toBe(400);
    }
    const missing = await t.app.inject({
      method: 'PATCH',
      url: '/api/v1/apps/qubot-one/environments/nowhere/settings',
      headers: admin,
      payload: { replicas: 2 },
    });
    expect(missing.statusCode).toBe(404);
  });
});

describe('[security] freeze override on deploy, promote and rollback', () => {
  const base = '/api/v1/apps/qubot-one/environments/development';
  let windowId = '';

  beforeAll(async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: `${base}/freeze-windows`,
      headers: await t.as('release-manager'),
      payload: {
        reason: 'Quarter close',
        startsAt: new Date(Date.now() - 60_000).toISOString(),
        endsAt: new Date(Date.now() + 3_600_000).toISOString(),
      },
    });
    expect(res.statusCode).toBe(201);
    windowId = res.json().id;
  });

  const deploy = async (role: 'deployer' | 'admin', extra: Record<string, unknown>) =>
    t.app.inject({
      method: 'POST',
      url: `${base}/deployments`,
      headers: await t.as(role),
      payload: { version: '1.0.0', strategy: 'rolling', ...extra },
    });

  it('refuses a deploy with 409 environment_frozen naming the window', async () => {
    const res = await deploy('deployer', { reason: 'just a deploy' });
    expect(res.statusCode).toBe(409);
    expect(res.json().error.code).toBe('environment_frozen');
    expect(res.json().error.message).toMatch(/^environment development is frozen: "Quarter close" \(until /);
    expect(res.json().error.details).toMatchObject({ reason: 'frozen', freezeWindow: { id: windowId } });
  });

  it('lets only an admin with a reason override; nothing is stored otherwise', async () => {
    const deployer = await deploy('deployer', { overrideFreeze: true, reason: 'please' });
    expect(deployer.statusCode).toBe(403);
    expect(deployer.json().error.message).toBe('forbidden: needs admin to override a freeze window');
    const noReason = await deploy('admin', { overrideFreeze: true });
    expect(noReason.statusCode).toBe(400);
    expect(noReason.json().error.details.field).toBe('body.reason');
    expect(await t.db.prisma.deployment.count()).toBe(0);
    expect(await t.db.prisma.auditEntry.count({ where: { action: 'freeze.override' } })).toBe(0);

    const ok = await deploy('admin', { overrideFreeze: true, reason: 'security fix' });
    expect(ok.statusCode, ok.body).toBe(202);
    const entries = await t.db.prisma.auditEntry.findMany({
      where: { action: { in: ['freeze.override', 'deployment.create'] } },
      orderBy: { id: 'asc' },
    });
    // One request, one transaction: the override and the deployment it let through.
    expect(entries.map((e) => [e.action, e.actor, e.reason, e.target])).toEqual([
      ['freeze.override', 'admin', 'security fix', 'qubot-one/development'],
      ['deployment.create', 'admin', 'security fix', 'qubot-one/development'],
    ]);
    expect(new Set(entries.map((e) => e.requestId))).toEqual(new Set([ok.headers['x-request-id']]));
    expect(entries[0]?.after).toEqual({ freezeWindows: [{ id: windowId, reason: 'Quarter close' }] });
  });

  it('accepts overrideFreeze on promote and rollback bodies', async () => {
    const admin = await t.as('admin');
    for (const action of ['promote', 'rollback']) {
      const res = await t.app.inject({
        method: 'POST',
        url: `/api/v1/apps/qubot-one/environments/staging/${action}`,
        headers: admin,
        payload: { overrideFreeze: true, reason: 'hotfix' },
      });
      // Nothing is live in this test database: the business rule answers, not the schema.
      expect(res.statusCode, res.body).toBe(409);
      expect(res.json().error.code).toBe('conflict');
    }
  });
});
