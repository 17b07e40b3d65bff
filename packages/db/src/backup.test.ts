import { spawn } from 'node:child_process';
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createTestDatabase } from '../../../test/db.ts';
import { appendAudit } from './audit.ts';
import {
  BackupError,
  type BackupManifest,
  compareWithManifest,
  createBackup,
  dropStaleRestores,
  listBackups,
  pruneBackups,
  restoreBackup,
  restoreIntoNewDatabase,
  tableChecksums,
  verifyBackup,
} from './backup.ts';
import { createDatabase } from './client.ts';
import { appendEvent } from './events.ts';
import { listMigrations, MIGRATIONS_DIR, migrate } from './migrate.ts';
import { seedDemo } from './seed.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../../..');
const ROWS = 100_000;
let db: Awaited<ReturnType<typeof createTestDatabase>>;
let dir: string;
let manifest: BackupManifest;
const created: string[] = [];

function urlFor(name: string): string {
  const u = new URL(inject('pgAdminUrl'));
  u.pathname = `/${name}`;
  return u.toString();
}
const uniqueName = (p: string) => `${p}_${Math.random().toString(36).slice(2, 10)}`;

async function admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: inject('pgAdminUrl') });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}
const databaseExists = (name: string) =>
  admin(async (c) => (await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])).rowCount === 1);

beforeAll(async () => {
  db = await createTestDatabase();
  dir = mkdtempSync(join(tmpdir(), 'qubot-backup-test-'));
  await seedDemo(db.prisma, { launcher: 'node demo.js {port}' });
  // 100,000 events (the counter moved with them) and 100,000 audit rows, with text that needs
  // COPY escaping (tabs, newlines, backslashes, quotes, non-ASCII) in every one.
  await db.pool.query(
    `INSERT INTO events (seq, type, payload, created_at)
       SELECT (SELECT value FROM event_counter) + g, 'test.event',
              jsonb_build_object('n', g, 'text', E'tab\\there\\nnew line \\\\ "q" é'),
              now() - make_interval(secs => g)
         FROM generate_series(1, ${ROWS}) g`,
  );
  await db.pool.query(`UPDATE event_counter SET value = value + ${ROWS} WHERE id = 1`);
  await db.pool.query(
    `INSERT INTO audit_entries (actor, role, action, target_type, target, reason, after)
       SELECT 'user' || (g % 17), 'admin', 'test.action', 'environment', 'qubot-one/staging',
              E'why\\t' || g, jsonb_build_object('g', g)
         FROM generate_series(1, ${ROWS}) g`,
  );
}, 120_000);

afterAll(async () => {
  for (const name of created) await admin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
  await db.drop();
  rmSync(dir, { recursive: true, force: true });
});

describe('backup and restore', () => {
  it('backs up 100,000 events and audit rows and restores them into a fresh database, every table equal row for row', async () => {
    const t0 = Date.now();
    manifest = await createBackup({ url: db.url, dir, createdBy: 'test', toolVersion: '0.1.0' });
    const backupMs = Date.now() - t0;
    const events = manifest.tables.find((t) => t.name === 'events');
    const audit = manifest.tables.find((t) => t.name === 'audit_entries');
    expect(events?.rows).toBeGreaterThanOrEqual(ROWS);
    expect(audit?.rows).toBe(ROWS);
    expect(manifest.migration).toBe(listMigrations().at(-1)?.name);
    expect(manifest.tables.map((t) => t.name)).toContain('event_counter');
    expect((await listBackups(dir)).map((e) => e.id)).toEqual([manifest.id]);
    await verifyBackup(dir, manifest.id);

    const name = uniqueName('qubot_restored');
    created.push(name);
    const t1 = Date.now();
    const result = await restoreIntoNewDatabase({
      adminUrl: inject('pgAdminUrl'),
      name,
      dir,
      id: manifest.id,
    });
    const restoreMs = Date.now() - t1;
    console.log(
      `backup of ${manifest.totalRows} rows: ${backupMs} ms, ${manifest.compressedBytes} bytes; restore: ${restoreMs} ms`,
    );
    expect(result.migratedForward).toEqual([]);
    const [source, target] = await Promise.all([tableChecksums(db.url), tableChecksums(urlFor(name))]);
    expect([...target.keys()]).toEqual([...source.keys()]);
    expect(target).toEqual(source);
    expect(compareWithManifest(manifest, target)).toEqual([]);

    // Numbering goes on where the backup stopped: the next event follows the counter, the next
    // audit entry the identity sequence (no duplicate key).
    const restored = createDatabase(urlFor(name), { max: 2 });
    try {
      const ev = await appendEvent(restored.prisma, { type: 'after.restore', payload: {} });
      expect(ev.seq).toBe(BigInt(manifest.eventSeq) + 1n);
      const entry = await appendAudit(restored.prisma, {
        actor: 'test',
        action: 'after.restore',
        targetType: 'x',
      });
      const max = await restored.pool.query<{ max: string }>(
        'SELECT max(id)::text AS max FROM audit_entries',
      );
      expect(entry.id.toString()).toBe(max.rows[0]?.max);
      // The append-only trigger is back on after the load.
      await expect(restored.pool.query('DELETE FROM audit_entries WHERE id = 1')).rejects.toThrow(
        /append-only/,
      );
    } finally {
      await restored.close();
    }
  }, 180_000);

  it('refuses a corrupted or truncated file, naming it, and overwrites nothing', async () => {
    const bad = mkdtempSync(join(tmpdir(), 'qubot-backup-bad-'));
    try {
      cpSync(join(dir, manifest.id), join(bad, manifest.id), { recursive: true });
      const file = join(bad, manifest.id, 'audit_entries.copy.gz');
      const bytes = readFileSync(file);
      const at = Math.floor(bytes.length / 2);
      bytes[at] = (bytes[at] ?? 0) ^ 0xff;
      writeFileSync(file, bytes);
      const err = await verifyBackup(bad, manifest.id).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(BackupError);
      expect((err as BackupError).message).toMatch(/audit_entries\.copy\.gz \(table audit_entries\)/);
      expect((err as BackupError).table).toBe('audit_entries');

      const name = uniqueName('qubot_never');
      await expect(
        restoreIntoNewDatabase({ adminUrl: inject('pgAdminUrl'), name, dir: bad, id: manifest.id }),
      ).rejects.toThrow(/audit_entries\.copy\.gz/);
      expect(await databaseExists(name)).toBe(false);

      // An existing empty database stays empty: the verify pass runs before any write.
      const empty = uniqueName('qubot_empty');
      created.push(empty);
      await admin((c) => c.query(`CREATE DATABASE ${empty}`));
      await expect(restoreBackup({ dir: bad, id: manifest.id, targetUrl: urlFor(empty) })).rejects.toThrow(
        BackupError,
      );
      const tables = await admin(async () => {
        const c = new pg.Client({ connectionString: urlFor(empty) });
        await c.connect();
        const r = await c.query("SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'public'");
        await c.end();
        return r.rows[0].n as number;
      });
      expect(tables).toBe(0);

      // Truncated events file.
      cpSync(join(dir, manifest.id, 'audit_entries.copy.gz'), file);
      const events = join(bad, manifest.id, 'events.copy.gz');
      truncateSync(events, Math.floor(readFileSync(events).length / 3));
      await expect(verifyBackup(bad, manifest.id)).rejects.toThrow(
        /events\.copy\.gz \(table events\) is truncated/,
      );

      // Restoring over a database that has data is refused, and its data is untouched.
      const before = await tableChecksums(db.url);
      await expect(restoreBackup({ dir, id: manifest.id, targetUrl: db.url })).rejects.toThrow(/not empty/);
      expect(await tableChecksums(db.url)).toEqual(before);
    } finally {
      rmSync(bad, { recursive: true, force: true });
    }
  }, 120_000);

  it('restores a backup from an older migration version and migrates it forward', async () => {
    const all = listMigrations();
    const older = all.slice(0, -1);
    const oldDir = mkdtempSync(join(tmpdir(), 'qubot-old-migrations-'));
    const backups = mkdtempSync(join(tmpdir(), 'qubot-old-backups-'));
    const source = uniqueName('qubot_old');
    created.push(source);
    try {
      for (const m of older) {
        mkdirSync(join(oldDir, m.name));
        cpSync(join(MIGRATIONS_DIR, m.name, 'migration.sql'), join(oldDir, m.name, 'migration.sql'));
      }
      await admin((c) => c.query(`CREATE DATABASE ${source}`));
      await migrate(urlFor(source), oldDir);
      // Rows written with plain SQL: today's Prisma client knows columns the older schema lacks.
      const old = new pg.Client({ connectionString: urlFor(source) });
      await old.connect();
      try {
        await old.query(
          `INSERT INTO applications (id, name, launcher, updated_at)
           VALUES (gen_random_uuid(), 'qubot-one', 'node demo.js {port}', now())`,
        );
      } finally {
        await old.end();
      }
      const m = await createBackup({
        url: urlFor(source),
        dir: backups,
        createdBy: 'test',
        toolVersion: 'old',
      });
      expect(m.migration).toBe(older.at(-1)?.name);

      const name = uniqueName('qubot_forward');
      created.push(name);
      const result = await restoreIntoNewDatabase({
        adminUrl: inject('pgAdminUrl'),
        name,
        dir: backups,
        id: m.id,
      });
      expect(result.migratedForward).toEqual([all.at(-1)?.name]);
      const c = new pg.Client({ connectionString: urlFor(name) });
      await c.connect();
      try {
        const applied = await c.query<{ migration_name: string }>(
          'SELECT migration_name FROM "_prisma_migrations" ORDER BY migration_name',
        );
        expect(applied.rows.map((r) => r.migration_name)).toEqual(all.map((x) => x.name));
        const apps = await c.query<{ name: string }>('SELECT name FROM applications');
        expect(apps.rows.map((r) => r.name)).toEqual(['qubot-one']);
      } finally {
        await c.end();
      }
    } finally {
      rmSync(oldDir, { recursive: true, force: true });
      rmSync(backups, { recursive: true, force: true });
    }
  }, 120_000);

  /** Runs test/backup-child.ts and SIGKILLs it as soon as it prints `killAt`. */
  async function killDuring(args: string[], killAt: string): Promise<void> {
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'test/backup-child.ts'), ...args], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_c, s) => resolve(s)));
    for await (const line of createInterface({ input: child.stdout })) {
      if (line === killAt) {
        child.kill('SIGKILL');
        break;
      }
      if (line === 'done') throw new Error(`the child finished before "${killAt}"`);
    }
    const signal = await exited;
    expect(signal, stderr).toBe('SIGKILL');
  }

  it('a backup killed mid-way (SIGKILL) is never listed; a restore killed mid-way leaves no database that looks restored', async () => {
    const crashDir = mkdtempSync(join(tmpdir(), 'qubot-backup-crash-'));
    try {
      await killDuring(['backup', db.url, crashDir, 'qb-crashed'], 'table events');
      expect(await listBackups(crashDir)).toEqual([]);
      expect(readdirSync(crashDir)).toEqual(['.partial-qb-crashed']);
      await expect(verifyBackup(crashDir, 'qb-crashed')).rejects.toThrow(/not found/);
      // Retention removes the leftovers once they are old enough.
      expect((await pruneBackups(crashDir, 3, 0)).partialsRemoved).toEqual(['.partial-qb-crashed']);

      const name = uniqueName('qubot_crashed');
      await killDuring(['restore', inject('pgAdminUrl'), dir, manifest.id, name], 'table events');
      expect(await databaseExists(name)).toBe(false);
      // The scratch database holds nothing that looks like a restored one: its transaction died.
      const scratch = await admin(
        async (c) =>
          (
            await c.query<{ datname: string }>('SELECT datname FROM pg_database WHERE datname LIKE $1', [
              `${name}%`,
            ])
          ).rows,
      );
      for (const { datname } of scratch) {
        created.push(datname);
        const c = new pg.Client({ connectionString: urlFor(datname) });
        await c.connect();
        // Wait for the killed backend's transaction to be gone (it rolls back when its socket closes).
        await c.query(
          `SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()`,
          [datname],
        );
        const r = await c.query("SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'public'");
        await c.end();
        expect(r.rows[0].n).toBe(0);
      }
      const dropped = await dropStaleRestores(inject('pgAdminUrl'));
      expect(dropped.filter((d) => d.startsWith(name))).toEqual(scratch.map((s) => s.datname));
    } finally {
      rmSync(crashDir, { recursive: true, force: true });
    }
  }, 120_000);

  it('takes its snapshot without blocking writers: a write committed mid-backup is in the database, not in the backup', async () => {
    const rdir = mkdtempSync(join(tmpdir(), 'qubot-backup-mvcc-'));
    try {
      let written: bigint | null = null;
      const m = await createBackup({
        url: db.url,
        dir: rdir,
        createdBy: 'test',
        toolVersion: 't',
        // Inside the backup's transaction, before the first COPY: a deployment-like write (an event
        // and an audit entry in one transaction) must commit now; if the backup held a lock it
        // needs, this would never return.
        onProgress: async (s) => {
          if (written !== null || s.phase !== 'table') return;
          const ev = await db.prisma.$transaction(async (tx) => {
            await appendAudit(tx, { actor: 'writer', action: 'during.backup', targetType: 'x' });
            return appendEvent(tx, { type: 'during.backup', payload: {} });
          });
          written = ev.seq;
        },
      });
      expect(written).not.toBeNull();
      expect(BigInt(m.eventSeq)).toBe((written as unknown as bigint) - 1n);
      const events = m.tables.find((t) => t.name === 'events');
      const live = await db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM events');
      expect(events?.rows).toBe((live.rows[0]?.n ?? 0) - 1);
    } finally {
      rmSync(rdir, { recursive: true, force: true });
    }
  });

  it('retention keeps the newest backups', async () => {
    const rdir = mkdtempSync(join(tmpdir(), 'qubot-backup-keep-'));
    const small = await createTestDatabase();
    try {
      const ids: string[] = [];
      for (let i = 0; i < 3; i++)
        ids.push((await createBackup({ url: small.url, dir: rdir, createdBy: 'test', toolVersion: 't' })).id);
      const pruned = await pruneBackups(rdir, 2);
      expect(pruned.deleted).toEqual([ids[0]]);
      expect((await listBackups(rdir)).map((e) => e.id)).toEqual([ids[2], ids[1]]);
    } finally {
      await small.drop();
      rmSync(rdir, { recursive: true, force: true });
    }
  }, 60_000);
});
