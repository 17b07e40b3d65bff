import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestDatabase } from '../../../../test/db.ts';
import { createTransact, type Db } from '../client.ts';
import type { Release } from '../generated/client.ts';
import { createReleaseRepo, type ReleaseRepo } from './release-repo.ts';

let db: Awaited<ReturnType<typeof createTestDatabase>>;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db.drop();
});

it('list() and findByVersion() give each release where it is live and its newest deployment per environment — through the pg pool and inside a transaction alike', async () => {
  const app = await db.prisma.application.create({ data: { name: 'rel-app', launcher: 'x {port}' } });
  const other = await db.prisma.application.create({ data: { name: 'rel-other', launcher: 'x {port}' } });
  const envs = await Promise.all(
    ['development', 'staging', 'production'].map((name, position) =>
      db.prisma.environment.create({ data: { applicationId: app.id, name, position } }),
    ),
  );
  const [dev, staging, prod] = envs as [(typeof envs)[0], (typeof envs)[0], (typeof envs)[0]];
  const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s));
  const releases: Release[] = [];
  for (const [i, version] of ['1.0.0', '1.1.0', '1.2.0', '1.3.0'].entries())
    releases.push(
      await db.prisma.release.create({
        data: {
          applicationId: app.id,
          version,
          artifact: `b/${version}`,
          commit: i % 2 ? 'abc' : null,
          buildUrl: i === 1 ? 'https://ci.example/1' : null,
          testResults: i === 2 ? { passed: 3, failed: 0 } : undefined,
          createdBy: 'ci',
          createdAt: at(i * 10),
        },
      }),
    );
  // Another application's release with the same version: never in this application's pages.
  await db.prisma.release.create({
    data: { applicationId: other.id, version: '1.3.0', artifact: 'x', createdBy: 'ci', createdAt: at(99) },
  });
  const [r0, r1] = releases as [(typeof releases)[0], (typeof releases)[0]];
  const deploy = (releaseId: string, environmentId: string, status: 'succeeded' | 'failed', s: number) =>
    db.prisma.deployment.create({
      data: {
        applicationId: app.id,
        environmentId,
        releaseId,
        strategy: 'rolling',
        status,
        actor: 't',
        createdAt: at(s),
      },
    });
  // 1.0.0: succeeded twice in development, then failed; succeeded in production (newest of all).
  await deploy(r0.id, dev.id, 'succeeded', 100);
  await deploy(r0.id, dev.id, 'succeeded', 101);
  await deploy(r0.id, dev.id, 'failed', 102);
  await deploy(r0.id, prod.id, 'succeeded', 110);
  // 1.1.0: failed in staging; live in development and staging (staging set by hand: a rollback).
  await deploy(r1.id, staging.id, 'failed', 105);
  await db.prisma.environment.update({ where: { id: staging.id }, data: { liveReleaseId: r1.id } });
  await db.prisma.environment.update({ where: { id: dev.id }, data: { liveReleaseId: r1.id } });
  await db.prisma.environment.update({ where: { id: prod.id }, data: { liveReleaseId: r0.id } });
  // 1.2.0 and 1.3.0: never deployed.

  const expected = {
    '1.3.0': { liveIn: [], deployments: [] },
    '1.2.0': { liveIn: [], deployments: [], testResults: { passed: 3, failed: 0 } },
    '1.1.0': {
      liveIn: [{ name: 'development' }, { name: 'staging' }],
      deployments: [{ status: 'failed', environment: { name: 'staging' } }],
      buildUrl: 'https://ci.example/1',
    },
    '1.0.0': {
      liveIn: [{ name: 'production' }],
      deployments: [
        { status: 'succeeded', environment: { name: 'production' } },
        { status: 'failed', environment: { name: 'development' } },
      ],
    },
  } as const;
  const check = (row: Awaited<ReturnType<ReturnType<typeof createReleaseRepo>['findByVersion']>>) => {
    if (!row) throw new Error('missing release');
    const want = expected[row.version as keyof typeof expected];
    const made = releases.find((r) => r.version === row.version);
    expect(row).toEqual({
      ...made,
      testResults: 'testResults' in want ? want.testResults : null,
      liveIn: want.liveIn,
      deployments: want.deployments,
    });
    expect(row.createdAt).toBeInstanceOf(Date);
  };

  const pooled = createReleaseRepo(db.prisma, { pool: db.pool });
  const plain = createReleaseRepo(db.prisma);
  const transact = createTransact(db.prisma);
  type Read = <T>(f: (repo: ReleaseRepo, tx?: Db) => Promise<T>) => Promise<T>;
  const paths: [string, Read][] = [
    ['pool', (f) => f(pooled)],
    ['no pool', (f) => f(plain)],
    // Inside a transaction the statement goes through Prisma's $queryRaw on the transaction.
    ['transaction', (f) => transact((tx) => f(pooled, tx))],
  ];
  for (const [name, read] of paths) {
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const res = await read((r, tx) => r.list(app.id, { cursor, limit: 3 }, tx));
      for (const row of res.items) {
        check(row);
        seen.push(row.version);
      }
      cursor = res.nextCursor ?? undefined;
    } while (cursor);
    expect(seen, name).toEqual(['1.3.0', '1.2.0', '1.1.0', '1.0.0']);
    for (const version of Object.keys(expected))
      check(await read((r, tx) => r.findByVersion(app.id, version, tx)));
    expect(await read((r, tx) => r.findByVersion(app.id, '9.9.9', tx)), name).toBeNull();
  }
});

it('a list statement is prepared once per pool connection and reused, whatever the values', async () => {
  const one = new pg.Pool({ connectionString: db.url, max: 1 });
  try {
    const repo = createReleaseRepo(db.prisma, { pool: one });
    const app = await db.prisma.application.create({ data: { name: 'prep-app', launcher: 'x {port}' } });
    const rel = await db.prisma.release.create({
      data: { applicationId: app.id, version: '1.0.0', artifact: 'b', createdBy: 'ci' },
    });
    await repo.list(app.id, { limit: 5 });
    await repo.list(app.id, { limit: 7 });
    expect((await repo.findByVersion(app.id, '1.0.0'))?.id).toBe(rel.id);
    const { rows } = await one.query(
      `SELECT name, generic_plans + custom_plans AS runs FROM pg_prepared_statements WHERE name LIKE 'qubot\\_%' ORDER BY name`,
    );
    // Two statement texts (a page; one version), the page's run twice on the same preparation.
    expect(rows.map((r) => Number(r.runs)).sort()).toEqual([1, 2]);
  } finally {
    await one.end();
  }
});
