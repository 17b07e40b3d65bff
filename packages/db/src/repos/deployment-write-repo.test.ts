import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../../../../test/db.ts';
import { Prisma } from '../generated/client.ts';
import { createDeploymentWriteRepo, UNFINISHED } from './deployment-write-repo.ts';

let db: Awaited<ReturnType<typeof createTestDatabase>>;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db.drop();
});

/** The plan PostgreSQL picks for `sql`, as text. */
async function plan(sql: Prisma.Sql): Promise<string> {
  const rows = await db.prisma.$queryRaw<{ 'QUERY PLAN': string }[]>(Prisma.sql`EXPLAIN ${sql}`);
  return rows.map((r) => r['QUERY PLAN']).join('\n');
}

describe("the orchestrator's open work never reads finished history", () => {
  it('listUnfinished returns active and cleaning-up deployments only, from the partial index', async () => {
    const app = await db.prisma.application.create({ data: { name: 'open-work', launcher: 'x {port}' } });
    const env = await db.prisma.environment.create({
      data: { applicationId: app.id, name: 'development', position: 0 },
    });
    const release = await db.prisma.release.create({
      data: { applicationId: app.id, version: '1.0.0', artifact: 'a', createdBy: 'test' },
    });
    // 20,000 finished deployments: history the orchestrator must not read.
    await db.prisma.$executeRaw`
      INSERT INTO deployments (id, application_id, environment_id, release_id, strategy, status, actor, state, finished_at, updated_at)
      SELECT gen_random_uuid(), ${app.id}::uuid, ${env.id}::uuid, ${release.id}::uuid, 'rolling',
             (ARRAY['succeeded','failed','rolled_back','aborted'])[1 + i % 4]::"DeploymentStatus", 'seed',
             '{"phase":"done"}', now() - make_interval(mins => i), now()
        FROM generate_series(1, 20000) AS i`;
    const open = async (status: string, phase: string) =>
      (
        await db.prisma.deployment.create({
          data: {
            applicationId: app.id,
            environmentId: env.id,
            releaseId: release.id,
            strategy: 'blue_green',
            status: status as 'running',
            actor: 'test',
            state: { phase },
          },
        })
      ).id;
    // Only one may be active per environment (deployments_one_active_per_environment).
    const running = await open('running', 'forward');
    const cleaningUp = await open('succeeded', 'cleanup');
    await open('succeeded', 'done');
    await open('failed', 'done');
    await db.prisma.$executeRaw`ANALYZE deployments`;

    const repo = createDeploymentWriteRepo(db.prisma);
    const rows = await repo.listUnfinished();
    expect(rows.map((r) => r.id).sort()).toEqual([running, cleaningUp].sort());
    expect(rows.find((r) => r.id === cleaningUp)).toEqual({
      id: cleaningUp,
      environmentId: env.id,
      status: 'succeeded',
    });
    expect((await repo.listCleaningUp(env.id)).map((r) => r.id)).toEqual([cleaningUp]);

    const listPlan = await plan(UNFINISHED);
    expect(listPlan).toContain('deployments_open_work_idx');
    expect(listPlan).not.toMatch(/Seq Scan on deployments/);
    // Seeding 20,000 rows through the metric-rollup triggers takes seconds on a busy machine.
  }, 120_000);
});
