import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestDatabase } from '../../../../test/db.ts';
import { createDeploymentRepo } from './deployment-repo.ts';
import { createDeploymentWriteRepo } from './deployment-write-repo.ts';

let db: Awaited<ReturnType<typeof createTestDatabase>>;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db.drop();
});

it('list() pages give exactly the rows findById gives, newest first, every row once', async () => {
  const app = await db.prisma.application.create({ data: { name: 'list-app', launcher: 'x {port}' } });
  const envs = await Promise.all(
    ['development', 'staging'].map((name, position) =>
      db.prisma.environment.create({ data: { applicationId: app.id, name, position } }),
    ),
  );
  const [v1, v2] = await Promise.all(
    ['1.0.0', '1.1.0'].map((version) =>
      db.prisma.release.create({
        data: { applicationId: app.id, version, artifact: `b/${version}`, createdBy: 't' },
      }),
    ),
  );
  if (!v1 || !v2) throw new Error('releases');
  const config = await db.prisma.configVersion.create({
    data: { environmentId: envs[1]?.id as string, version: 1, createdBy: 't' },
  });
  const writes = createDeploymentWriteRepo(db.prisma);
  const ids: string[] = [];
  for (let i = 0; i < 7; i++) {
    const env = envs[i % 2];
    if (!env) throw new Error('env');
    const d = await writes.create({
      applicationId: app.id,
      environmentId: env.id,
      releaseId: i % 2 ? v2.id : v1.id,
      fromReleaseId: i % 3 ? v1.id : null,
      kind: 'deploy',
      strategy: 'rolling',
      options: { maxSurge: 1 },
      state: { phase: 'forward' },
      progress: { percent: i },
      reason: i % 2 ? 'why' : null,
      actor: 'tester',
      configVersionId: env.id === config.environmentId ? config.id : null,
      steps: [
        {
          name: 'Start',
          status: 'succeeded',
          message: null,
          startedAt: new Date(1_000 * i).toISOString(),
          finishedAt: new Date(2_000 * i + 1).toISOString(),
        },
        { name: 'Switch', status: 'pending', message: 'waiting', startedAt: null, finishedAt: null },
      ],
    });
    // Finished, so that the next one may be active in the same environment.
    await db.prisma.deployment.update({
      where: { id: d.id },
      data: { status: 'succeeded', requestsServed: 12_345_678_901n },
    });
    ids.push(d.id);
  }
  const repo = createDeploymentRepo(db.prisma);
  const seen: string[] = [];
  let cursor: string | undefined;
  do {
    const res = await repo.list({ applicationId: app.id }, { cursor, limit: 3 });
    for (const row of res.items) {
      expect(row).toEqual(await repo.findById(row.id));
      seen.push(row.id);
    }
    cursor = res.nextCursor ?? undefined;
  } while (cursor);
  expect(seen).toEqual([...ids].reverse());
  const staging = await repo.list({ environmentId: envs[1]?.id, status: 'succeeded' }, { limit: 50 });
  expect(staging.items.map((r) => r.id)).toEqual(ids.filter((_, i) => i % 2 === 1).reverse());
  const byName = await repo.list(
    { applicationName: 'list-app', environmentName: 'staging', status: 'succeeded' },
    { limit: 50 },
  );
  expect(byName.items).toEqual(staging.items);
  expect(
    (await repo.list({ applicationName: 'list-app', environmentName: 'nope' }, { limit: 50 })).items,
  ).toEqual([]);
  expect((await repo.list({ applicationName: 'nope' }, { limit: 50 })).items).toEqual([]);
  expect((await repo.list({ status: 'failed' }, { limit: 50 })).items).toEqual([]);
});
