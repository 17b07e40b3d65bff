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

// The columns a history page carries: what the deployment view reads (DeploymentViewRow).
const VIEW_KEYS = [
  'id',
  'kind',
  'strategy',
  'status',
  'waitingFor',
  'state',
  'options',
  'progress',
  'analysis',
  'requestsServed',
  'requestsFailed',
  'reason',
  'actor',
  'error',
  'createdAt',
  'startedAt',
  'finishedAt',
  'application',
  'environment',
  'release',
  'fromRelease',
  'configVersion',
  'steps',
];
const STEP_KEYS = ['position', 'name', 'status', 'message', 'startedAt', 'finishedAt'];
const pick = (o: Record<string, unknown>, keys: string[]) => Object.fromEntries(keys.map((k) => [k, o[k]]));
// A page's timestamps but the cursor's createdAt come in ISO form, as the view writes them.
const isoOf = (o: Record<string, unknown>) => ({
  ...o,
  startedAt: (o.startedAt as Date | null)?.toISOString() ?? null,
  finishedAt: (o.finishedAt as Date | null)?.toISOString() ?? null,
});
/** findById's row reduced to what a page carries. */
const asPageRow = (full: Record<string, unknown> | null) =>
  full && {
    ...isoOf(pick(full, VIEW_KEYS)),
    steps: (full.steps as Record<string, unknown>[]).map((s) => isoOf(pick(s, STEP_KEYS))),
  };

it('list() pages give the rows findById gives (the columns the view reads), newest first, every row once', async () => {
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
      expect(row).toEqual(asPageRow(await repo.findById(row.id)));
      expect(Object.keys(row).sort()).toEqual([...VIEW_KEYS].sort());
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
  // A machine in a final status allows no action: its state is not read for the page.
  const last = ids[ids.length - 1] as string;
  await db.prisma.deployment.update({ where: { id: last }, data: { state: { status: 'succeeded', pc: 9 } } });
  const [newest] = (await repo.list({ applicationId: app.id }, { limit: 1 })).items;
  expect(newest?.id).toBe(last);
  expect(newest?.state).toBeNull();
  expect((await repo.findById(last))?.state).toEqual({ status: 'succeeded', pc: 9 });
});
