// Backups in S3-compatible storage against a REAL S3-compatible server (s3rver, which checks
// Signature Version 4 signatures): upload, list, verify and restore from the storage, a wrong
// secret, retention there, and concurrent restores. docs/backup.md "S3-compatible storage".
import { spawn } from 'node:child_process';
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Backup, BackupStatus, BackupVerification, RestoreResult } from '@qubot/api-contract';
import {
  compareWithManifest,
  createS3Client,
  readManifest,
  remoteBackupIds,
  tableChecksums,
  uploadBackup,
} from '@qubot/db';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp } from '../../../../test/app.ts';
import { S3_SECRET_ACCESS_KEY, startS3Server } from '../../../../test/s3-server.ts';
import { REPO_ROOT } from '../demo.ts';

type T = Awaited<ReturnType<typeof buildTestApp>>;
let s3: Awaited<ReturnType<typeof startS3Server>>;
let t: T;
let wrong: T;
const databases: string[] = [];

beforeAll(async () => {
  s3 = await startS3Server();
  t = await buildTestApp({
    app: { backups: { remote: s3.target, keep: 2, backupEveryMs: 1, drillEveryMs: null } },
  });
  wrong = await buildTestApp({
    app: { backups: { remote: { ...s3.target, secretAccessKey: 'not-the-secret' } } },
  });
}, 60_000);
afterAll(async () => {
  const c = new pg.Client({ connectionString: t.db.url });
  await c.connect();
  for (const name of databases) await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await c.end();
  await wrong?.close();
  await t?.close();
  await s3?.close();
});

const newDatabase = () => {
  const name = `qubot_s3_${Date.now().toString(36)}_${databases.length}`;
  databases.push(name);
  return name;
};
const dbUrl = (name: string) => {
  const u = new URL(t.db.url);
  u.pathname = `/${name}`;
  return u.toString();
};
const databaseExists = async (name: string) =>
  (await t.db.pool.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])).rowCount === 1;
const storage = () => createS3Client(s3.target);
const inject = async (app: T, method: 'GET' | 'POST', url: string, payload?: object) =>
  app.app.inject({ method, url, headers: await app.as('admin'), ...(payload ? { payload } : {}) });

describe('[backups] S3-compatible storage', () => {
  let first: Backup;

  it('uploads a backup, lists it in both places; the status names the storage and never the secret', async () => {
    const res = await inject(t, 'POST', '/api/v1/backups', { reason: 'to s3' });
    expect(res.statusCode, res.body).toBe(201);
    first = res.json<Backup>();
    expect(first.locations).toEqual(['local', 's3']);
    expect(await remoteBackupIds(storage())).toEqual([first.id]);
    // What the storage holds is the backup, object for object (manifest included).
    const keys = (await storage().list('cluster-a/backups/')).keys.map((k) => k.key);
    const m = await readManifest(t.backupDir, first.id);
    expect(keys.sort()).toEqual(
      [...m.tables.map((x) => x.file), 'manifest.json']
        .map((f) => `cluster-a/backups/${first.id}/${f}`)
        .sort(),
    );

    const list = (await inject(t, 'GET', '/api/v1/backups')).json<{ items: Backup[] }>();
    expect(list.items.map((b) => [b.id, b.locations])).toEqual([[first.id, ['local', 's3']]]);
    const status = await inject(t, 'GET', '/api/v1/backups/status');
    expect(status.json<BackupStatus>().remote).toEqual({
      location: `s3://${s3.target.bucket}/cluster-a/backups/`,
      endpoint: s3.target.endpoint,
      bucket: s3.target.bucket,
      prefix: 'cluster-a/backups',
      region: 'eu-west-1',
      accessKeyId: s3.target.accessKeyId,
    });
    expect(status.body).not.toContain(S3_SECRET_ACCESS_KEY);
    const [entry] = await t.db.prisma.auditEntry.findMany({ where: { action: 'backup.create' } });
    expect(entry?.after).toMatchObject({
      target: 's3',
      upload: { ok: true, location: `s3://${s3.target.bucket}/cluster-a/backups/${first.id}/` },
    });
    expect(JSON.stringify(entry, (_k, v) => (typeof v === 'bigint' ? String(v) : v))).not.toContain(
      S3_SECRET_ACCESS_KEY,
    );
  });

  it('after the local copy is lost: lists from the storage, verifies by a drill and restores from there, equal row for row', async () => {
    rmSync(join(t.backupDir, first.id), { recursive: true, force: true });
    const list = (await inject(t, 'GET', '/api/v1/backups')).json<{ items: Backup[] }>();
    expect(list.items.map((b) => [b.id, b.locations])).toEqual([[first.id, ['s3']]]);
    const onlyS3 = (await inject(t, 'GET', '/api/v1/backups?source=local')).json<{ items: Backup[] }>();
    expect(onlyS3.items).toEqual([]);

    const verify = await inject(t, 'POST', `/api/v1/backups/${first.id}/verify`, {});
    expect(verify.statusCode, verify.body).toBe(200);
    expect(verify.json<BackupVerification>()).toMatchObject({ ok: true, kind: 'manual', error: null });

    const name = newDatabase();
    const res = await inject(t, 'POST', `/api/v1/backups/${first.id}/restore`, { database: name });
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json<RestoreResult>()).toMatchObject({ id: first.id, database: name, rows: first.rows });
    // Every table of the restored database equals the backup's snapshot, row for row.
    expect(compareWithManifest(await remoteManifest(first.id), await tableChecksums(dbUrl(name)))).toEqual(
      [],
    );
    const audits = await t.db.prisma.auditEntry.findMany({
      where: { action: { in: ['backup.verify', 'backup.restore'] } },
      orderBy: { id: 'asc' },
    });
    expect(audits.map((a) => [a.action, (a.after as { source: string }).source])).toEqual([
      ['backup.verify', 's3'],
      ['backup.restore', 's3'],
    ]);
    // The downloads' scratch directories are gone.
    expect(readdirSync(t.backupDir)).toEqual([]);
  }, 60_000);

  it('a wrong secret: a clear error naming the secret setting, nothing created, nothing overwritten', async () => {
    const before = (await storage().list('')).keys;
    const name = newDatabase();
    const restore = await inject(wrong, 'POST', `/api/v1/backups/${first.id}/restore`, {
      database: name,
      source: 's3',
    });
    expect(restore.statusCode, restore.body).toBe(502);
    expect(restore.json().error.message).toMatch(
      /rejected the request signature: the secret access key is wrong \(QUBOT_BACKUP_S3_SECRET_ACCESS_KEY\)/,
    );
    expect(restore.body).not.toContain('not-the-secret');
    expect(await databaseExists(name)).toBe(false);

    const list = await inject(wrong, 'GET', '/api/v1/backups');
    expect(list.statusCode).toBe(502);
    expect(list.json().error.message).toMatch(/secret access key is wrong/);

    // A backup is still taken and kept locally; the upload is refused and reported, the storage unchanged.
    const create = await inject(wrong, 'POST', '/api/v1/backups', {});
    expect(create.statusCode, create.body).toBe(502);
    expect(create.json().error.message).toMatch(/was taken and kept in .*, but the upload failed: .*secret/);
    const id = create.json().error.details.id as string;
    await expect(readManifest(wrong.backupDir, id)).resolves.toMatchObject({ id });
    expect((await storage().list('')).keys).toEqual(before);
    const local = (await inject(wrong, 'GET', '/api/v1/backups?source=local')).json<{ items: Backup[] }>();
    expect(local.items.map((b) => [b.id, b.locations])).toEqual([[id, ['local']]]);
    const [entry] = await wrong.db.prisma.auditEntry.findMany({ where: { action: 'backup.create' } });
    expect(entry?.after).toMatchObject({ target: 's3', upload: { ok: false } });
  }, 60_000);

  it('asking for the storage where none is configured is a 400 naming the field', async () => {
    const plain = await buildTestApp({ seed: true });
    try {
      const res = await inject(plain, 'POST', '/api/v1/backups', { target: 's3' });
      expect(res.statusCode).toBe(400);
      expect(res.json().error).toMatchObject({ details: { field: 'target' } });
      expect(res.json().error.message).toMatch(/no S3-compatible storage is configured/);
      const bad = await inject(plain, 'POST', '/api/v1/backups', { target: 'ftp' });
      expect(bad.statusCode).toBe(400);
      expect(bad.json().error.details.field).toMatch(/target/);
    } finally {
      await plain.close();
    }
  }, 60_000);

  it('two restores from the storage into the same new database at once: exactly one wins, the other is a 409', async () => {
    const name = newDatabase();
    const [a, b] = await Promise.all([
      inject(t, 'POST', `/api/v1/backups/${first.id}/restore`, { database: name, source: 's3' }),
      inject(t, 'POST', `/api/v1/backups/${first.id}/restore`, { database: name, source: 's3' }),
    ]);
    expect([a.statusCode, b.statusCode].sort(), `${a.body} ${b.body}`).toEqual([201, 409]);
    const loser = a.statusCode === 409 ? a : b;
    expect(loser.json().error.message).toMatch(/already exists/);
    expect(compareWithManifest(await remoteManifest(first.id), await tableChecksums(dbUrl(name)))).toEqual(
      [],
    );
    const left = await t.db.pool.query("SELECT datname FROM pg_database WHERE datname LIKE '%_restoring_%'");
    expect(left.rows).toEqual([]);
  }, 60_000);

  it('an upload cut short (objects without their manifest) never lists and cannot be restored', async () => {
    const c = storage();
    await c.put('cluster-a/backups/qb-20260101T000000Z-abcdef/events.copy.gz', Buffer.from('partial'));
    expect(await remoteBackupIds(c)).toEqual([first.id]);
    const name = newDatabase();
    const res = await inject(t, 'POST', '/api/v1/backups/qb-20260101T000000Z-abcdef/restore', {
      database: name,
      source: 's3',
    });
    expect(res.statusCode).toBe(404);
    expect(await databaseExists(name)).toBe(false);
  });

  it('the schedule uploads its backups and applies retention in the storage too (audited)', async () => {
    const r1 = await t.app.backups.runSchedule();
    const r2 = await t.app.backups.runSchedule();
    expect(r1.uploadError).toBeNull();
    // keep = 2: the first backup (only in the storage by now) goes.
    expect(r2.prunedRemote).toEqual([first.id]);
    expect((await remoteBackupIds(storage())).sort()).toEqual([r1.backup, r2.backup].sort());
    expect((await storage().list(`cluster-a/backups/${first.id}/`)).keys).toEqual([]);
    const prune = await t.db.prisma.auditEntry.findMany({ where: { action: 'backup.prune' } });
    expect(prune.at(-1)?.after).toMatchObject({ remote: [first.id], keep: 2 });
  }, 60_000);
});

describe('[backups] S3 upload crash', () => {
  it('an upload SIGKILLed after its first objects is never listed in the storage; the next upload completes it', async () => {
    const res = await inject(t, 'POST', '/api/v1/backups', { target: 'local' });
    expect(res.statusCode, res.body).toBe(201);
    const { id } = res.json<Backup>();
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(REPO_ROOT, 'test/backup-child.ts'), 'upload', '-', t.backupDir, id],
      {
        cwd: REPO_ROOT,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, QUBOT_TEST_S3_TARGET: JSON.stringify(s3.target) },
      },
    );
    let stderr = '';
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    const exited = new Promise<NodeJS.Signals | null>((resolve) =>
      child.once('exit', (_c, sig) => resolve(sig)),
    );
    // The worst moment: table files stored, the manifest (the commit) not yet.
    for await (const line of createInterface({ input: child.stdout })) {
      if (line === 'object events') {
        child.kill('SIGKILL');
        break;
      }
      if (line === 'done') throw new Error('the upload finished before it could be killed');
    }
    expect(await exited, stderr).toBe('SIGKILL');
    const objects = (await storage().list(`cluster-a/backups/${id}/`)).keys.map((k) => k.key);
    expect(objects.length).toBeGreaterThan(0);
    expect(objects).not.toContain(`cluster-a/backups/${id}/manifest.json`);
    expect(await remoteBackupIds(storage())).not.toContain(id);
    const list = (await inject(t, 'GET', '/api/v1/backups')).json<{ items: Backup[] }>();
    expect(list.items.find((b) => b.id === id)?.locations).toEqual(['local']);

    // Uploading again overwrites the partial objects and commits with the manifest.
    await uploadBackup(storage(), t.backupDir, id);
    expect(await remoteBackupIds(storage())).toContain(id);
    const verify = await inject(t, 'POST', `/api/v1/backups/${id}/verify`, { source: 's3', restore: false });
    expect(verify.json<BackupVerification>()).toMatchObject({ ok: true });
  }, 60_000);
});

async function remoteManifest(id: string) {
  return JSON.parse((await storage().get(`cluster-a/backups/${id}/manifest.json`)).toString());
}
