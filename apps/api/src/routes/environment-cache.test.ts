import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildTestApp } from '../../../../test/app.ts';

let t: Awaited<ReturnType<typeof buildTestApp>>;
beforeAll(async () => {
  // The cache's time bounds out of reach: a read more than maxAgeMs (1 s) after the one before it,
  // or the end of the window after a local write (1 s) falling between two reads, would make a
  // slow, shared machine count a miss where this test expects a hit. Reads after the sign-ins check
  // the event counter, so a change committed elsewhere is seen by the next read; notification
  // mode has its own tests (services/view-cache.test.ts).
  t = await buildTestApp({ app: { viewCache: { maxAgeMs: 600_000, localWriteMs: 600_000 } } });
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

it('[API] history and release lists: served from the view cache, and a change is visible in the very next read', async () => {
  const viewer = await t.as('viewer');
  const deployer = await t.as('deployer');
  const HISTORY = '/api/v1/deployments?app=qubot-one&limit=20';
  const RELEASES = '/api/v1/apps/qubot-one/releases?limit=20';
  const items = (body: string) => (JSON.parse(body) as { items: { id?: string; version?: string }[] }).items;

  const history = await read(HISTORY, viewer);
  const releases = await read(RELEASES, viewer);
  const before = t.app.services.catalog.viewCacheStats();
  expect((await read(HISTORY, viewer)).body).toBe(history.body);
  expect((await read(RELEASES, viewer)).body).toBe(releases.body);
  expect(t.app.services.catalog.viewCacheStats()).toMatchObject({
    hits: (before?.hits ?? 0) + 2,
    builds: before?.builds,
  });
  // Another query is another page: built, not served from the first one's entry.
  expect(
    items((await read('/api/v1/deployments?app=qubot-one&limit=1', viewer)).body).length,
  ).toBeLessThanOrEqual(1);
  expect(t.app.services.catalog.viewCacheStats()?.builds).toBe((before?.builds ?? 0) + 1);

  // Changes through the API: the next read, by anyone, shows them.
  const created = await t.app.inject({
    method: 'POST',
    url: '/api/v1/apps/qubot-one/releases',
    headers: deployer,
    payload: { version: '7.7.7', artifact: 'qubot-one/healthy' },
  });
  expect(created.statusCode, created.body).toBe(201);
  expect(items((await read(RELEASES, viewer)).body)[0]?.version).toBe('7.7.7');
  const deploy = await t.app.inject({
    method: 'POST',
    url: '/api/v1/apps/qubot-one/environments/development/deployments',
    headers: deployer,
    payload: { version: '7.7.7', strategy: 'rolling' },
  });
  expect(deploy.statusCode, deploy.body).toBe(202);
  const { id } = deploy.json() as { id: string };
  expect(items((await read(HISTORY, viewer)).body)[0]).toMatchObject({ id, release: { version: '7.7.7' } });

  // A change committed elsewhere (the worker process), with its event: visible once its
  // notification reaches this process.
  const last = await t.db.prisma.event.findFirst({ orderBy: { seq: 'desc' }, select: { seq: true } });
  const noticed = new Promise<void>((resolve) => {
    t.app.eventBus.onNotified((seq) => {
      if (seq > Number(last?.seq ?? 0)) resolve();
    });
  });
  await t.db.prisma.$transaction(async (tx) => {
    const row = await tx.deployment.update({
      where: { id },
      data: { status: 'aborted', finishedAt: new Date() },
    });
    await t.app.orchestrator.engine.announce(tx, id, row.environmentId);
  });
  await noticed;
  expect(items((await read(HISTORY, viewer)).body)[0]).toMatchObject({ id, status: 'aborted' });
});
