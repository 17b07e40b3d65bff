// The read caches across API processes (issue 10, the read path): the pipeline view and the
// caller's credentials are kept between requests and dropped by the event bus's notices, so a
// second API process on the same database serves a change made on the first as soon as the
// notice arrives — a revoked token is refused, a changed environment shown — and while nothing
// changes a read costs no database round trip.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type AuthHeaders, buildTestApp } from '../../../../test/app.ts';
import { buildApp } from '../app.ts';

let t: Awaited<ReturnType<typeof buildTestApp>>;
/** A second API process on the same database: reads happen there, changes on t. */
let replica: Awaited<ReturnType<typeof buildApp>>;
let admin: AuthHeaders;
const PIPELINE = '/api/v1/apps/qubot-one/environments';

beforeAll(async () => {
  t = await buildTestApp();
  replica = await buildApp({ db: t.db });
  await replica.ready();
  // The bus listens once the app is ready (its plugin awaits the LISTEN).
  if (!replica.eventBus.isListening()) throw new Error('the replica is not listening');
  admin = await t.as('admin');
});
afterAll(async () => {
  await replica?.close();
  await t?.close();
});

/** Resolves when the replica has received the credential notice that follows this call. */
function nextCredentialNotice() {
  return new Promise<void>((resolve) => replica.eventBus.onCredentialsChanged(() => resolve()));
}
const lastSeq = async () =>
  Number((await t.db.prisma.event.findFirst({ orderBy: { seq: 'desc' }, select: { seq: true } }))?.seq ?? 0);
/** Resolves when the replica has received an event notice past `seq`. */
function eventNoticePast(seq: number) {
  return new Promise<void>((resolve) =>
    replica.eventBus.onNotified((n) => {
      if (n > seq) resolve();
    }),
  );
}

it('[API] a token revoked on one API process is refused by the other as soon as the notice arrives; until then its answers were kept', async () => {
  const created = await t.app.inject({
    method: 'POST',
    url: '/api/v1/tokens',
    headers: admin,
    payload: { name: 'cache-bot', role: 'viewer', expiresInDays: 1 },
  });
  expect(created.statusCode, created.body).toBe(201);
  const { secret, token } = created.json() as { secret: string; token: { id: string } };
  const bearer = { authorization: `Bearer ${secret}` };
  const me = () => replica.inject({ method: 'GET', url: '/api/v1/auth/me', headers: bearer });

  expect((await me()).statusCode).toBe(200);
  const hits = replica.credentialCache.stats().hits;
  expect((await me()).statusCode).toBe(200);
  expect(replica.credentialCache.stats().hits).toBe(hits + 1);

  const notice = nextCredentialNotice();
  const revoked = await t.app.inject({ method: 'DELETE', url: `/api/v1/tokens/${token.id}`, headers: admin });
  expect(revoked.statusCode, revoked.body).toBe(200);
  await notice;
  expect((await me()).statusCode).toBe(401);
});

it('[API] a pipeline read on another process: no database read while nothing changes; the change shown once its notice arrives', async () => {
  const viewer = await t.as('viewer');
  const read = async () => {
    const res = await replica.inject({ method: 'GET', url: PIPELINE, headers: viewer });
    expect(res.statusCode, res.body).toBe(200);
    return JSON.parse(res.body) as { items: { name: string; replicas: number }[] };
  };
  const staging = (v: Awaited<ReturnType<typeof read>>) => v.items.find((e) => e.name === 'staging');
  const first = await read();
  const before = replica.services.views.stats();
  await read();
  const after = replica.services.views.stats();
  // Served from the cache without even the counter check.
  expect(after.hits).toBe(before.hits + 1);
  expect(after.seqReads).toBe(before.seqReads);

  const replicas = staging(first)?.replicas ?? 0;
  const notice = eventNoticePast(await lastSeq());
  const patch = await t.app.inject({
    method: 'PATCH',
    url: '/api/v1/apps/qubot-one/environments/staging/settings',
    headers: admin,
    payload: { replicas: replicas + 1 },
  });
  expect(patch.statusCode, patch.body).toBe(200);
  await notice;
  expect(staging(await read())?.replicas).toBe(replicas + 1);
});

it('[API] the application list on another process: kept while nothing changes, a new application shown once its notice arrives', async () => {
  const viewer = await t.as('viewer');
  const names = async () => {
    const res = await replica.inject({ method: 'GET', url: '/api/v1/apps', headers: viewer });
    expect(res.statusCode, res.body).toBe(200);
    return (res.json().items as { name: string }[]).map((a) => a.name);
  };
  expect(await names()).not.toContain('cached-list-app');
  const before = replica.services.views.stats();
  await names();
  expect(replica.services.views.stats().hits).toBe(before.hits + 1);

  const notice = eventNoticePast(await lastSeq());
  const created = await t.app.inject({
    method: 'POST',
    url: '/api/v1/apps',
    headers: admin,
    payload: {
      name: 'cached-list-app',
      launcher: 'node apps/qubot-one/src/server.ts --port {port}',
      environments: [{ name: 'development' }],
    },
  });
  expect(created.statusCode, created.body).toBe(201);
  await notice;
  expect(await names()).toContain('cached-list-app');
});

it('[API] the LISTEN connection lost: nothing kept is served stale, and the caches work again once it is back', async () => {
  const viewer = await t.as('viewer');
  const read = async () => {
    const res = await replica.inject({ method: 'GET', url: PIPELINE, headers: viewer });
    expect(res.statusCode, res.body).toBe(200);
    return JSON.parse(res.body) as { items: { name: string; replicas: number }[] };
  };
  const replicasOf = async () => (await read()).items.find((e) => e.name === 'staging')?.replicas ?? 0;
  const replicas = await replicasOf();
  const down = new Promise<void>((resolve) =>
    replica.eventBus.onListening((up) => {
      if (!up) resolve();
    }),
  );
  // Every LISTEN connection of the database (both processes') is cut.
  await t.db.pool.query(
    `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
      WHERE datname = current_database() AND query LIKE 'LISTEN%' AND pid <> pg_backend_pid()`,
  );
  await down;
  // Changed while the replica may not be listening: the next read shows it all the same.
  const patch = await t.app.inject({
    method: 'PATCH',
    url: '/api/v1/apps/qubot-one/environments/staging/settings',
    headers: admin,
    payload: { replicas: replicas + 1 },
  });
  expect(patch.statusCode, patch.body).toBe(200);
  expect(await replicasOf()).toBe(replicas + 1);
  await expect.poll(() => replica.eventBus.isListening(), { timeout: 15_000 }).toBe(true);
  expect(replica.services.views.stats().listening).toBe(true);
  expect(replica.credentialCache.stats().listening).toBe(true);
});
