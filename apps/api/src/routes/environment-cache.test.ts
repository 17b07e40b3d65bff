import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildTestApp } from '../../../../test/app.ts';

let t: Awaited<ReturnType<typeof buildTestApp>>;
beforeAll(async () => {
  t = await buildTestApp();
});
afterAll(async () => {
  await t.close();
});

const PIPELINE = '/api/v1/apps/qubot-one/environments';

async function read(url: string, headers: Record<string, string>) {
  const res = await t.app.inject({ method: 'GET', url, headers });
  expect(res.statusCode, res.body).toBe(200);
  expect(res.headers['content-type']).toMatch(/^application\/json/);
  return res;
}
const staging = (body: string) =>
  (JSON.parse(body) as { items: { name: string; replicas: number; traffic: unknown }[] }).items.find(
    (e) => e.name === 'staging',
  );

it('[API] pipeline read: served from the view cache, and a change is visible in the very next read', async () => {
  const viewer = await t.as('viewer');
  const admin = await t.as('admin');
  const first = await read(PIPELINE, viewer);
  const before = t.app.services.catalog.viewCacheStats();
  const second = await read(PIPELINE, viewer);
  expect(second.body).toBe(first.body);
  expect(t.app.services.catalog.viewCacheStats()?.hits).toBe((before?.hits ?? 0) + 1);
  const replicas = staging(first.body)?.replicas ?? 0;

  // A change through the API: the next read, by anyone, shows it.
  const patch = await t.app.inject({
    method: 'PATCH',
    url: '/api/v1/apps/qubot-one/environments/staging/settings',
    headers: admin,
    payload: { replicas: replicas + 1 },
  });
  expect(patch.statusCode, patch.body).toBe(200);
  expect(staging((await read(PIPELINE, viewer)).body)?.replicas).toBe(replicas + 1);
  const one = await read('/api/v1/apps/qubot-one/environments/staging', viewer);
  expect(JSON.parse(one.body).replicas).toBe(replicas + 1);

  // A change committed elsewhere (another API or worker process), with the event the orchestrator
  // writes for it: visible as soon as its notification reaches this process.
  const env = await t.db.prisma.environment.findFirstOrThrow({
    where: { name: 'staging', application: { name: 'qubot-one' } },
  });
  const last = await t.db.prisma.event.findFirst({ orderBy: { seq: 'desc' }, select: { seq: true } });
  const noticed = new Promise<void>((resolve) => {
    t.app.eventBus.onNotified((seq) => {
      if (seq > Number(last?.seq ?? 0)) resolve();
    });
  });
  const traffic = [
    { pool: 'blue', version: '1.0.0', weight: 25 },
    { pool: 'green', version: '1.1.0', weight: 75 },
  ];
  await t.db.prisma.$transaction(async (tx) => {
    await tx.environment.update({ where: { id: env.id }, data: { traffic } });
    await t.app.orchestrator.engine.announce(tx, null, env.id);
  });
  await noticed;
  expect(staging((await read(PIPELINE, viewer)).body)?.traffic).toEqual(traffic);
  const builds = t.app.services.catalog.viewCacheStats()?.builds ?? 0;
  await read(PIPELINE, admin);
  expect(t.app.services.catalog.viewCacheStats()?.builds).toBe(builds);
});

it('[API] pipeline read: a cached view still answers only callers allowed to see the application', async () => {
  const admin = await t.as('admin');
  await read(PIPELINE, admin); // warm
  await t.db.prisma.application.create({ data: { name: 'other-app', launcher: 'node x.js {port}' } });
  const created = await t.app.inject({
    method: 'POST',
    url: '/api/v1/tokens',
    headers: admin,
    payload: { name: 'other-app-only', role: 'viewer', applications: ['other-app'] },
  });
  expect(created.statusCode, created.body).toBe(201);
  const { secret } = created.json() as { secret: string };
  for (const url of [PIPELINE, `${PIPELINE}/staging`]) {
    const scoped = await t.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${secret}` } });
    expect(scoped.statusCode, scoped.body).toBe(403);
    expect(scoped.body).not.toContain('"items"');
    const anonymous = await t.app.inject({ method: 'GET', url });
    expect(anonymous.statusCode).toBe(401);
  }
  const missing = await t.app.inject({
    method: 'GET',
    url: '/api/v1/apps/nope/environments',
    headers: admin,
  });
  expect(missing.statusCode).toBe(404);
  expect(missing.json()).toMatchObject({ error: { code: 'not_found', details: { field: 'params.app' } } });
});
