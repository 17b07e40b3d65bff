import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp } from '../../../../test/app.ts';

let t: Awaited<ReturnType<typeof buildTestApp>>;
beforeAll(async () => {
  t = await buildTestApp();
});
afterAll(async () => {
  await t.close();
});

const get = async (url: string) => t.app.inject({ method: 'GET', url, headers: await t.as('viewer') });

describe('[API] applications and environments', () => {
  it('lists applications with their pipeline', async () => {
    const res = await get('/api/v1/apps');
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.nextCursor).toBeNull();
    expect(body.items.map((a: { name: string }) => a.name)).toEqual(['qubot-one']);
    expect(body.items[0].environments).toEqual(['development', 'staging', 'production']);
  });

  it('returns the environment pipeline in order with the shape of DESIGN §6', async () => {
    const res = await get('/api/v1/apps/qubot-one/environments');
    expect(res.statusCode).toBe(200);
    const { items, nextCursor } = res.json();
    expect(nextCursor).toBeNull();
    expect(items.map((e: { name: string }) => e.name)).toEqual(['development', 'staging', 'production']);
    expect(items.map((e: { position: number }) => e.position)).toEqual([0, 1, 2]);
    expect(items.map((e: { protected: boolean }) => e.protected)).toEqual([false, false, true]);
    for (const env of items) {
      expect(Object.keys(env)).toEqual(
        expect.arrayContaining([
          'name',
          'position',
          'protected',
          'address',
          'live',
          'activeColor',
          'traffic',
          'instances',
          'activeDeployment',
        ]),
      );
      expect(Array.isArray(env.traffic)).toBe(true);
      expect(Array.isArray(env.instances)).toBe(true);
    }
  });

  it('shows the live release and the active deployment of an environment', async () => {
    const app = await t.db.prisma.application.findUniqueOrThrow({ where: { name: 'qubot-one' } });
    const env = await t.db.prisma.environment.findFirstOrThrow({
      where: { applicationId: app.id, name: 'staging' },
    });
    const rel = await t.db.prisma.release.findFirstOrThrow({
      where: { applicationId: app.id, version: '1.1.0' },
    });
    await t.db.prisma.environment.update({
      where: { id: env.id },
      data: {
        liveReleaseId: rel.id,
        activeColor: 'green',
        traffic: [{ pool: 'green', version: '1.1.0', weight: 100 }],
        address: 'http://127.0.0.1:9999',
      },
    });
    const dep = await t.db.prisma.deployment.create({
      data: {
        applicationId: app.id,
        environmentId: env.id,
        releaseId: rel.id,
        strategy: 'canary',
        status: 'running',
        actor: 'alice',
      },
    });
    const res = await get('/api/v1/apps/qubot-one/environments/staging');
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.live).toEqual({ version: '1.1.0' });
    expect(body.activeColor).toBe('green');
    expect(body.address).toBe('http://127.0.0.1:9999');
    expect(body.traffic).toEqual([{ pool: 'green', version: '1.1.0', weight: 100 }]);
    expect(body.activeDeployment).toMatchObject({
      id: dep.id,
      status: 'running',
      strategy: 'canary',
      version: '1.1.0',
    });
    await t.db.prisma.deployment.update({ where: { id: dep.id }, data: { status: 'succeeded' } });
  });

  it('answers unknown applications and environments with a 404 envelope', async () => {
    for (const url of ['/api/v1/apps/nope/environments', '/api/v1/apps/qubot-one/environments/nope']) {
      const res = await get(url);
      expect(res.statusCode).toBe(404);
      const body = res.json();
      expect(body.error.code).toBe('not_found');
      expect(body.error.message).toMatch(/not found/);
      expect(typeof body.requestId).toBe('string');
    }
  });

  it('rejects malformed path parameters with a 400 naming the parameter', async () => {
    const res = await get('/api/v1/apps/Not_A_Name/environments');
    expect(res.statusCode).toBe(400);
    expect(res.json().error.details.field).toBe('params.app');
  });
});

describe('[API] releases', () => {
  it('lists releases newest first with cursor pagination', async () => {
    const first = await get('/api/v1/apps/qubot-one/releases?limit=3');
    expect(first.statusCode).toBe(200);
    const p1 = first.json();
    expect(p1.items.map((r: { version: string }) => r.version)).toEqual(['1.3.0-faulty', '1.2.0', '1.1.0']);
    expect(typeof p1.nextCursor).toBe('string');
    const p2 = (await get(`/api/v1/apps/qubot-one/releases?limit=3&cursor=${p1.nextCursor}`)).json();
    expect(p2.items.map((r: { version: string }) => r.version)).toEqual(['1.0.0']);
    expect(p2.nextCursor).toBeNull();
  });

  it("shows where each release went: its newest deployment's status per environment, and where it is live", async () => {
    const app = await t.db.prisma.application.findFirstOrThrow({ where: { name: 'qubot-one' } });
    const envs = await t.db.prisma.environment.findMany({ where: { applicationId: app.id } });
    const envId = (name: string) => envs.find((e) => e.name === name)?.id as string;
    const rel = await t.db.prisma.release.findFirstOrThrow({
      where: { applicationId: app.id, version: '1.0.0' },
    });
    // Many deployments of 1.0.0: in development the newest failed after older successes; in
    // staging the newest (created after a rollback) succeeded. Nothing in production.
    const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s));
    const rows = [
      ...Array.from({ length: 30 }, (_, i) => ({
        env: 'development',
        status: 'succeeded' as const,
        at: at(i),
      })),
      { env: 'development', status: 'failed', at: at(40) },
      { env: 'staging', status: 'rolled_back', at: at(10) },
      { env: 'staging', status: 'succeeded', at: at(50) },
    ] as const;
    const created = [];
    for (const r of rows)
      created.push(
        await t.db.prisma.deployment.create({
          data: {
            applicationId: app.id,
            environmentId: envId(r.env),
            releaseId: rel.id,
            strategy: 'rolling',
            status: r.status,
            actor: 'alice',
            createdAt: r.at,
          },
        }),
      );
    await t.db.prisma.environment.update({
      where: { id: envId('staging') },
      data: { liveReleaseId: rel.id },
    });
    try {
      const expected = [
        { environment: 'development', live: false, lastStatus: 'failed' },
        { environment: 'staging', live: true, lastStatus: 'succeeded' },
      ];
      const one = (await get('/api/v1/apps/qubot-one/releases/1.0.0')).json();
      expect(one.deployedTo).toEqual(expect.arrayContaining(expected));
      expect(one.deployedTo).toHaveLength(2);
      const listed = (await get('/api/v1/apps/qubot-one/releases?limit=50')).json();
      const inList = listed.items.find((r: { version: string }) => r.version === '1.0.0');
      expect(inList.deployedTo).toEqual(one.deployedTo);
      // Never deployed, nowhere live.
      for (const version of ['1.2.0', '1.3.0-faulty'])
        expect(listed.items.find((r: { version: string }) => r.version === version).deployedTo).toEqual([]);
    } finally {
      await t.db.prisma.environment.update({
        where: { id: envId('staging') },
        data: { liveReleaseId: null },
      });
      await t.db.prisma.deployment.deleteMany({ where: { id: { in: created.map((d) => d.id) } } });
    }
  });

  it('rejects a malformed cursor or limit with a 400 naming the parameter', async () => {
    const bad = await get('/api/v1/apps/qubot-one/releases?cursor=not-a-cursor');
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.details.field).toBe('querystring.cursor');
    const limit = await get('/api/v1/apps/qubot-one/releases?limit=0');
    expect(limit.statusCode).toBe(400);
    expect(limit.json().error.details.field).toBe('querystring.limit');
    const unknown = await get('/api/v1/apps/qubot-one/releases?colour=blue');
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json().error.details.field).toBe('querystring.colour');
  });

  it('registers a release: 201, then 200 with the same release, 409 with another artifact', async () => {
    const body = { version: '2.0.0', artifact: 'qubot-one/healthy', commit: 'abc1234', changelog: '- new' };
    const created = await t.app.inject({
      method: 'POST',
      url: '/api/v1/apps/qubot-one/releases',
      headers: await t.as('deployer'),
      payload: body,
    });
    expect(created.statusCode).toBe(201);
    expect(created.json()).toMatchObject({
      version: '2.0.0',
      artifact: 'qubot-one/healthy',
      commit: 'abc1234',
    });
    const again = await t.app.inject({
      method: 'POST',
      url: '/api/v1/apps/qubot-one/releases',
      headers: await t.as('deployer'),
      payload: body,
    });
    expect(again.statusCode).toBe(200);
    expect(again.json().id).toBe(created.json().id);
    const clash = await t.app.inject({
      method: 'POST',
      url: '/api/v1/apps/qubot-one/releases',
      headers: await t.as('deployer'),
      payload: { ...body, artifact: 'qubot-one/other' },
    });
    expect(clash.statusCode).toBe(409);
    expect(clash.json().error.details.field).toBe('body.artifact');
    const audit = await t.db.prisma.auditEntry.findMany({ where: { action: 'release.create' } });
    expect(audit).toHaveLength(1);
    const events = await t.db.prisma.event.findMany({ where: { type: 'release.created' } });
    expect(events).toHaveLength(1);
  });

  it('rejects bad release bodies with a 400 naming the field, and stores nothing', async () => {
    const cases: Array<[unknown, string]> = [
      [{ version: '3.0.0', artifact: 'x', extra: true }, 'body.extra'],
      [{ artifact: 'x' }, 'body.version'],
      [{ version: '3.0.0', artifact: 'rm -rf /; echo' }, 'body.artifact'],
      [{ version: 3, artifact: 'x' }, 'body.version'],
    ];
    for (const [payload, field] of cases) {
      const res = await t.app.inject({
        method: 'POST',
        url: '/api/v1/apps/qubot-one/releases',
        headers: await t.as('deployer'),
        payload: payload as object,
      });
      expect(res.statusCode, JSON.stringify(payload)).toBe(400);
      expect(res.json().error.details.field).toBe(field);
    }
    const malformed = await t.app.inject({
      method: 'POST',
      url: '/api/v1/apps/qubot-one/releases',
      headers: { ...(await t.as('deployer')), 'content-type': 'application/json' },
      payload: '{"version": ',
    });
    expect(malformed.statusCode).toBe(400);
    expect(malformed.json().error.code).toBe('bad_request');
    expect(await t.db.prisma.release.count({ where: { version: '3.0.0' } })).toBe(0);
  });
});

describe('[API] deployments', () => {
  it('a history page item is the same object GET /deployments/:id answers (the page is read through the pg pool)', async () => {
    const app = await t.db.prisma.application.findUniqueOrThrow({ where: { name: 'qubot-one' } });
    const env = await t.db.prisma.environment.findFirstOrThrow({
      where: { applicationId: app.id, name: 'staging' },
    });
    const [from, to] = await Promise.all(
      ['1.0.0', '1.1.0'].map((version) =>
        t.db.prisma.release.findFirstOrThrow({ where: { applicationId: app.id, version } }),
      ),
    );
    const started = new Date('2026-11-30T10:00:00.123Z');
    const created = await t.db.prisma.deployment.create({
      data: {
        applicationId: app.id,
        environmentId: env.id,
        releaseId: to?.id as string,
        fromReleaseId: from?.id as string,
        strategy: 'canary',
        status: 'succeeded',
        actor: 'ci',
        reason: 'weekly release',
        options: { steps: [10, 50, 100] },
        requestsServed: 9_007_199_254n,
        requestsFailed: 3n,
        startedAt: started,
        finishedAt: new Date(started.getTime() + 61_000),
        steps: {
          create: [
            {
              position: 0,
              name: 'start instances',
              status: 'succeeded',
              startedAt: started,
              finishedAt: started,
            },
            { position: 1, name: 'canary 10 %', status: 'succeeded', message: 'ok', startedAt: started },
          ],
        },
      },
    });
    const page = (await get('/api/v1/deployments?app=qubot-one&env=staging&limit=1')).json();
    const one = (await get(`/api/v1/deployments/${created.id}`)).json();
    expect(page.items[0].id).toBe(created.id);
    expect(page.items[0]).toEqual(one);
    expect(one).toMatchObject({
      traffic: { requests: 9_007_199_254, failed: 3 },
      fromVersion: '1.0.0',
      startedAt: '2026-11-30T10:00:00.123Z',
      steps: [{ startedAt: '2026-11-30T10:00:00.123Z' }, { message: 'ok', finishedAt: null }],
    });
  });

  it('lists deployments with filters and pagination, and shows one', async () => {
    const app = await t.db.prisma.application.findUniqueOrThrow({ where: { name: 'qubot-one' } });
    const env = await t.db.prisma.environment.findFirstOrThrow({
      where: { applicationId: app.id, name: 'development' },
    });
    const rel = await t.db.prisma.release.findFirstOrThrow({
      where: { applicationId: app.id, version: '1.0.0' },
    });
    for (const status of ['succeeded', 'failed', 'succeeded'] as const) {
      await t.db.prisma.deployment.create({
        data: {
          applicationId: app.id,
          environmentId: env.id,
          releaseId: rel.id,
          strategy: 'rolling',
          status,
          actor: 'ci',
          steps: { create: [{ position: 0, name: 'start instances', status: 'succeeded' }] },
        },
      });
    }
    const all = (await get('/api/v1/deployments?app=qubot-one&env=development&limit=2')).json();
    expect(all.items).toHaveLength(2);
    expect(all.nextCursor).toEqual(expect.any(String));
    const rest = (
      await get(`/api/v1/deployments?app=qubot-one&env=development&limit=2&cursor=${all.nextCursor}`)
    ).json();
    expect(rest.items).toHaveLength(1);
    const failed = (await get('/api/v1/deployments?app=qubot-one&status=failed')).json();
    expect(failed.items.map((d: { status: string }) => d.status)).toEqual(['failed']);
    const one = await get(`/api/v1/deployments/${failed.items[0].id}`);
    expect(one.statusCode).toBe(200);
    expect(one.json()).toMatchObject({
      status: 'failed',
      strategy: 'rolling',
      release: { version: '1.0.0' },
      steps: [{ position: 0, name: 'start instances', status: 'succeeded' }],
    });
  });

  it('rejects bad filters and unknown ids clearly', async () => {
    expect((await get('/api/v1/deployments?status=exploded')).json().error.details.field).toBe(
      'querystring.status',
    );
    expect((await get('/api/v1/deployments?env=development')).statusCode).toBe(400);
    expect((await get('/api/v1/deployments/not-a-uuid')).json().error.details.field).toBe('params.id');
    const missing = await get('/api/v1/deployments/00000000-0000-4000-8000-000000000000');
    expect(missing.statusCode).toBe(404);
  });
});

describe('[API] operations', () => {
  it('reports liveness and readiness', async () => {
    expect((await get('/healthz')).json()).toEqual({ status: 'ok' });
    const ready = await get('/readyz');
    expect(ready.statusCode).toBe(200);
    expect(ready.json().checks).toEqual({ database: 'ok', migrations: 'ok' });
  });

  it('exports Prometheus metrics with the HTTP duration histogram by route', async () => {
    await get('/api/v1/apps');
    const res = await get('/metrics');
    expect(res.headers['content-type']).toMatch(/text\/plain/);
    expect(res.body).toMatch(
      /http_request_duration_seconds_bucket\{.*route="\/api\/v1\/apps".*status_code="200"/,
    );
    expect(res.body).toMatch(/qubot_process_cpu_seconds_total/);
  });

  it('echoes a valid X-Request-Id and generates one otherwise', async () => {
    const res = await t.app.inject({
      method: 'GET',
      url: '/api/v1/apps/nope/environments',
      headers: { ...(await t.as('viewer')), 'x-request-id': 'ci-42' },
    });
    expect(res.headers['x-request-id']).toBe('ci-42');
    expect(res.json().requestId).toBe('ci-42');
    const gen = await t.app.inject({
      method: 'GET',
      url: '/healthz',
      headers: { 'x-request-id': 'bad id with spaces' },
    });
    expect(gen.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('publishes an OpenAPI document where every route has a response schema', async () => {
    const res = await get('/api/openapi.json');
    expect(res.statusCode).toBe(200);
    const doc = res.json();
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/api/v1/apps',
        '/api/v1/apps/{app}/environments',
        '/api/v1/deployments/{id}',
        '/readyz',
      ]),
    );
    for (const [path, ops] of Object.entries<Record<string, { responses?: Record<string, unknown> }>>(
      doc.paths,
    )) {
      for (const [method, op] of Object.entries(ops)) {
        const ok = Object.keys(op.responses ?? {}).filter((s) => s.startsWith('2'));
        expect(ok.length, `${method.toUpperCase()} ${path} has no 2xx response schema`).toBeGreaterThan(0);
      }
    }
    const docs = await get('/api/docs/');
    expect(docs.statusCode).toBe(200);
    expect(docs.body).toMatch(/swagger/i);
  });

  it('answers unknown routes with the 404 envelope', async () => {
    const res = await get('/api/v1/nothing-here');
    expect(res.statusCode).toBe(404);
    expect(res.json().error.code).toBe('not_found');
  });
});
