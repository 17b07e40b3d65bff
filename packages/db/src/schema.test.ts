import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createTestDatabase } from '../../../test/db.ts';
import { appendAudit } from './audit.ts';
import { appendEvent } from './events.ts';
import { migrate } from './migrate.ts';

const here = dirname(fileURLToPath(import.meta.url));
let db: Awaited<ReturnType<typeof createTestDatabase>>;

beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db.drop();
});

async function seedEnvironment() {
  const app = await db.prisma.application.create({
    data: { name: `app-${Math.random().toString(36).slice(2, 8)}`, launcher: 'x {port}' },
  });
  const env = await db.prisma.environment.create({
    data: { applicationId: app.id, name: 'development', position: 0 },
  });
  const release = await db.prisma.release.create({
    data: { applicationId: app.id, version: '1.0.0', artifact: 'a/b', createdBy: 'test' },
  });
  return { app, env, release };
}

describe('schema and migrations', () => {
  it('prisma/schema.prisma and prisma/migrations agree (prisma migrate diff --exit-code)', () => {
    const res = spawnSync(
      process.execPath,
      [
        '--import',
        'tsx',
        join(here, '../scripts/prisma.ts'),
        'migrate',
        'diff',
        '--from-migrations',
        'prisma/migrations',
        '--to-schema-datamodel',
        'prisma/schema.prisma',
        '--exit-code',
      ],
      { env: { ...process.env, DATABASE_URL: inject('pgAdminUrl') }, encoding: 'utf8', timeout: 60_000 },
    );
    // --exit-code: 0 = no difference, 2 = difference, 1 = error.
    expect(res.stderr + res.stdout).not.toMatch(/Error:/);
    expect(res.status).toBe(0);
  });

  it('re-running the migrations applies nothing', async () => {
    expect(await migrate(db.url)).toEqual([]);
  });
});

describe('events', () => {
  it('numbers events gap-free and in commit order under concurrent writers', async () => {
    const { app } = await seedEnvironment();
    // 20 concurrent transactions, each holding its transaction open for a
    // different time after appending, so they would commit out of order if
    // the numbers were assigned without the counter's lock.
    const seen: bigint[] = [];
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    await client.query('LISTEN qubot_events');
    client.on('notification', (n) => seen.push(BigInt(n.payload ?? '0')));
    try {
      const before = (await db.prisma.eventCounter.findUniqueOrThrow({ where: { id: 1 } })).value;
      await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          db.prisma.$transaction(async (tx) => {
            await appendEvent(tx, { type: 'test', applicationId: app.id, payload: { i } });
            await tx.$executeRawUnsafe(`SELECT pg_sleep(${((i * 7) % 5) / 100})`);
          }),
        ),
      );
      // A rolled-back transaction gives its number back.
      await db.prisma
        .$transaction(async (tx) => {
          await appendEvent(tx, { type: 'test', applicationId: app.id });
          throw new Error('rollback');
        })
        .catch(() => {});
      await appendEvent(db.prisma, { type: 'after-rollback', applicationId: app.id });
      const rows = await db.prisma.event.findMany({
        where: { seq: { gt: before } },
        orderBy: { seq: 'asc' },
      });
      const seqs = rows.map((r) => r.seq);
      expect(seqs).toEqual(Array.from({ length: 21 }, (_, i) => before + BigInt(i + 1)));
      await expect.poll(() => seen.length).toBe(21);
      // Notifications arrive in commit order; commit order equals seq order.
      expect(seen).toEqual(seqs);
    } finally {
      await client.end();
    }
  });
});

describe('database rules', () => {
  it('allows at most one active deployment per environment (partial unique index)', async () => {
    const { app, env, release } = await seedEnvironment();
    const base = {
      applicationId: app.id,
      environmentId: env.id,
      releaseId: release.id,
      strategy: 'rolling' as const,
      actor: 't',
    };
    await db.prisma.deployment.create({ data: { ...base, status: 'running' } });
    await expect(db.prisma.deployment.create({ data: { ...base, status: 'pending' } })).rejects.toMatchObject(
      {
        code: 'P2002',
      },
    );
    // Finished deployments do not count.
    await db.prisma.deployment.create({ data: { ...base, status: 'succeeded' } });
    await db.prisma.deployment.create({ data: { ...base, status: 'failed' } });
    expect(await db.prisma.deployment.count({ where: { environmentId: env.id } })).toBe(3);
  });

  it('refuses UPDATE, DELETE and TRUNCATE on audit entries, even as raw SQL', async () => {
    const entry = await appendAudit(db.prisma, { actor: 'alice', action: 'test.action', targetType: 'test' });
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      await expect(
        client.query(`UPDATE audit_entries SET actor = 'mallory' WHERE id = $1`, [entry.id]),
      ).rejects.toThrow(/append-only/);
      await expect(client.query('DELETE FROM audit_entries WHERE id = $1', [entry.id])).rejects.toThrow(
        /append-only/,
      );
      await expect(client.query('TRUNCATE audit_entries')).rejects.toThrow(/append-only/);
      const row = await client.query('SELECT actor FROM audit_entries WHERE id = $1', [entry.id]);
      expect(row.rows[0].actor).toBe('alice');
    } finally {
      await client.end();
    }
  });

  it('keeps release versions unique per application', async () => {
    const { app } = await seedEnvironment();
    await expect(
      db.prisma.release.create({
        data: { applicationId: app.id, version: '1.0.0', artifact: 'x', createdBy: 't' },
      }),
    ).rejects.toMatchObject({ code: 'P2002' });
  });
});
