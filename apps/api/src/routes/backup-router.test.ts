import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Backup, BackupStatus, BackupVerification } from '@qubot/api-contract';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { buildTestApp } from '../../../../test/app.ts';

type T = Awaited<ReturnType<typeof buildTestApp>>;
let t: T;
const restored: string[] = [];

beforeAll(async () => {
  // A schedule due at every round (retention keeps two) but no timer: the test runs the rounds.
  t = await buildTestApp({ app: { backups: { keep: 2, backupEveryMs: 1, drillEveryMs: 1 } } });
});
afterAll(async () => {
  const c = new pg.Client({ connectionString: t.db.url });
  await c.connect();
  for (const name of restored) await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await c.end();
  await t.close();
});

const admin = () => t.as('admin');
const audit = async (action: string) =>
  t.db.prisma.auditEntry.findMany({ where: { action }, orderBy: { id: 'asc' } });
const metric = async (name: string) => {
  const res = await t.app.inject({ method: 'GET', url: '/metrics', remoteAddress: '127.0.0.1' });
  const line = res.body.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.split(' ')[1]);
};
const databaseExists = async (name: string) =>
  (await t.db.pool.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])).rowCount === 1;

describe('[backups] API', () => {
  let first: Backup;

  it('shows the drill alert before any drill, then takes a backup (audited) that lists', async () => {
    const status = (
      await t.app.inject({ method: 'GET', url: '/api/v1/backups/status', headers: await admin() })
    ).json<BackupStatus>();
    expect(status).toMatchObject({
      lastBackupAt: null,
      lastGoodDrillAt: null,
      drillState: 'overdue',
      remote: null,
    });
    expect(await metric('qubot_restore_drill_overdue')).toBe(1);
    expect(await metric('qubot_backup_last_timestamp_seconds')).toBeUndefined();

    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/backups',
      headers: await admin(),
      payload: { reason: 'before the upgrade' },
    });
    expect(res.statusCode, res.body).toBe(201);
    first = res.json<Backup>();
    expect(first.rows).toBeGreaterThan(0);
    expect(first.verification).toBeNull();
    const list = await t.app.inject({ method: 'GET', url: '/api/v1/backups', headers: await admin() });
    expect(list.json().items.map((b: Backup) => b.id)).toEqual([first.id]);
    const detail = await t.app.inject({
      method: 'GET',
      url: `/api/v1/backups/${first.id}`,
      headers: await admin(),
    });
    expect(detail.json().tables.find((x: { name: string }) => x.name === 'audit_entries')).toBeTruthy();
    const entries = await audit('backup.create');
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ actor: 'admin', targetId: first.id, reason: 'before the upgrade' });
    // The control plane's section of /metrics reuses its snapshot for up to a second.
    await vi.waitFor(
      async () =>
        expect(await metric('qubot_backup_last_timestamp_seconds')).toBe(Date.parse(first.createdAt) / 1000),
      { timeout: 5_000, interval: 200 },
    );
  });

  it('verifies by a restore drill (compared, migrated, booted), recorded on the backup, the status and /metrics', async () => {
    // A passing files-only check is not a drill: the alert stays.
    const files = await t.app.inject({
      method: 'POST',
      url: `/api/v1/backups/${first.id}/verify`,
      headers: await admin(),
      payload: { restore: false },
    });
    expect(files.json<BackupVerification>()).toMatchObject({ ok: true });
    const still = (
      await t.app.inject({ method: 'GET', url: '/api/v1/backups/status', headers: await admin() })
    ).json<BackupStatus>();
    expect(still).toMatchObject({ drillState: 'overdue', lastDrill: null });
    const res = await t.app.inject({
      method: 'POST',
      url: `/api/v1/backups/${first.id}/verify`,
      headers: await admin(),
      payload: {},
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json<BackupVerification>()).toMatchObject({ ok: true, kind: 'manual', error: null });
    const status = (
      await t.app.inject({ method: 'GET', url: '/api/v1/backups/status', headers: await admin() })
    ).json<BackupStatus>();
    expect(status.drillState).toBe('ok');
    expect(status.lastDrill).toMatchObject({ id: first.id, ok: true });
    expect(await metric('qubot_restore_drill_overdue')).toBe(0);
    expect(await metric('qubot_restore_drill_last_ok')).toBe(1);
    await vi.waitFor(
      async () => expect(await metric('qubot_backup_restore_drill_age_seconds')).toBeGreaterThanOrEqual(0),
      { timeout: 5_000, interval: 200 },
    );
    expect(await audit('backup.verify')).toHaveLength(2);
    // The drill's scratch database is gone.
    const left = await t.db.pool.query("SELECT datname FROM pg_database WHERE datname LIKE 'qubot_drill_%'");
    expect(left.rows).toEqual([]);
  });

  it('restores into a new database only, and refuses a corrupted backup naming the file, creating nothing', async () => {
    const name = `qubot_r_${Date.now().toString(36)}`;
    restored.push(name);
    const ok = await t.app.inject({
      method: 'POST',
      url: `/api/v1/backups/${first.id}/restore`,
      headers: await admin(),
      payload: { database: name, reason: 'inspect' },
    });
    expect(ok.statusCode, ok.body).toBe(201);
    expect(await databaseExists(name)).toBe(true);
    expect(await audit('backup.restore')).toHaveLength(1);
    const again = await t.app.inject({
      method: 'POST',
      url: `/api/v1/backups/${first.id}/restore`,
      headers: await admin(),
      payload: { database: name },
    });
    expect(again.statusCode).toBe(409);

    const file = join(t.backupDir, first.id, 'events.copy.gz');
    const bytes = readFileSync(file);
    const at = Math.floor(bytes.length / 2);
    bytes[at] = (bytes[at] ?? 0) ^ 0xff;
    writeFileSync(file, bytes);
    const other = `${name}_2`;
    const bad = await t.app.inject({
      method: 'POST',
      url: `/api/v1/backups/${first.id}/restore`,
      headers: await admin(),
      payload: { database: other },
    });
    expect(bad.statusCode).toBe(409);
    expect(bad.json().error.message).toMatch(/events\.copy\.gz \(table events\)/);
    expect(bad.json().error.details).toMatchObject({ file: 'events.copy.gz', table: 'events' });
    expect(await databaseExists(other)).toBe(false);
    const verify = await t.app.inject({
      method: 'POST',
      url: `/api/v1/backups/${first.id}/verify`,
      headers: await admin(),
      payload: { restore: false },
    });
    expect(verify.json<BackupVerification>()).toMatchObject({
      ok: false,
      error: expect.stringMatching(/events\.copy\.gz/),
    });
    expect(await metric('qubot_restore_drill_last_ok')).toBe(0);
  });

  it('is in the OpenAPI document with its schemas', async () => {
    const doc = (await t.app.inject({ method: 'GET', url: '/api/openapi.json' })).json();
    const paths = Object.keys(doc.paths).filter((p) => p.startsWith('/api/v1/backups'));
    expect(paths.sort()).toEqual([
      '/api/v1/backups',
      '/api/v1/backups/status',
      '/api/v1/backups/{id}',
      '/api/v1/backups/{id}/restore',
      '/api/v1/backups/{id}/verify',
    ]);
    expect(
      doc.paths['/api/v1/backups'].post.responses['201'].content['application/json'].schema,
    ).toBeTruthy();
    expect(doc.paths['/api/v1/backups/{id}/restore'].post.requestBody).toBeTruthy();
  });

  it('is for admins only', async () => {
    for (const role of ['viewer', 'deployer', 'release-manager'] as const) {
      const res = await t.app.inject({ method: 'GET', url: '/api/v1/backups', headers: await t.as(role) });
      expect(res.statusCode, role).toBe(403);
    }
  });

  it('the schedule takes a backup, applies retention and drills the newest (audited as the schedule)', async () => {
    const round1 = await t.app.backups.runSchedule();
    expect(round1.backup).toBeTruthy();
    expect(round1.drill).toMatchObject({ ok: true, kind: 'drill' });
    // keep = 2: the corrupted first backup goes at the next round.
    const round2 = await t.app.backups.runSchedule();
    expect(round2.pruned).toEqual([first.id]);
    const list = (
      await t.app.inject({ method: 'GET', url: '/api/v1/backups', headers: await admin() })
    ).json();
    expect(list.items.map((b: Backup) => b.id)).toEqual([round2.backup, round1.backup]);
    expect(list.items[0].verification).toMatchObject({ ok: true, kind: 'drill' });
    const scheduled = await t.db.prisma.auditEntry.findMany({ where: { actor: 'system:backup-schedule' } });
    expect(new Set(scheduled.map((e) => e.action))).toEqual(
      new Set(['backup.create', 'backup.verify', 'backup.prune']),
    );
  }, 60_000);

  it('a worker runs the schedule by itself (cluster task): a backup and a good drill appear', async () => {
    const w = await buildTestApp({
      app: {
        backups: { schedule: true, checkEveryMs: 50, backupEveryMs: 3_600_000, drillEveryMs: 3_600_000 },
      },
    });
    try {
      await vi.waitFor(
        async () => {
          const s = (
            await w.app.inject({ method: 'GET', url: '/api/v1/backups/status', headers: await w.as('admin') })
          ).json<BackupStatus>();
          expect(s.lastDrill).toMatchObject({ ok: true, kind: 'drill', id: s.lastBackupId });
        },
        { timeout: 30_000, interval: 100 },
      );
    } finally {
      await w.close();
    }
  }, 60_000);
});
