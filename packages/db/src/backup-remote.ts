// Backups in S3-compatible object storage (docs/backup.md, "S3-compatible storage"): a backup
// directory is uploaded object by object under `<prefix>/<id>/`, its manifest LAST — the manifest's
// presence is the commit, as the rename is on disk, so an upload cut short never lists as a
// backup. Verify and restore work on a local copy: the objects are downloaded into a partial
// directory and renamed once complete, then checked against the manifest like any local backup.
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  assertBackupId,
  BACKUP_ID,
  type BackupEntry,
  BackupError,
  type BackupManifest,
  type BackupProgress,
  fsyncPath,
  MANIFEST,
  PARTIAL_PREFIX,
  parseManifest,
  readManifest,
} from './backup.ts';
import { type S3Client, S3RequestError } from './s3-client.ts';

/** `prefix/` with exactly one trailing slash, or '' for the bucket's root. */
export function remotePrefix(s3: S3Client): string {
  const p = s3.target.prefix.replace(/^\/+|\/+$/g, '');
  return p ? `${p}/` : '';
}

/** Where backups live in the storage, for messages and the status view: `s3://bucket/prefix/`. */
export const remoteLocation = (s3: S3Client) => `s3://${s3.target.bucket}/${remotePrefix(s3)}`;

/** S3 failures become BackupError('remote') so callers map them like every other backup failure. */
async function remote<T>(what: Promise<T>): Promise<T> {
  try {
    return await what;
  } catch (err) {
    if (err instanceof S3RequestError) {
      if (err.code === 'NoSuchKey') throw new BackupError(err.message, 'not_found', MANIFEST);
      throw new BackupError(err.message, 'remote');
    }
    throw err;
  }
}

export interface UploadResult {
  id: string;
  location: string;
  objects: number;
  bytes: number;
  durationMs: number;
}

/** Upload local backup `id` (table files first, manifest last); `onProgress` hears of each object stored. */
export async function uploadBackup(
  s3: S3Client,
  dir: string,
  id: string,
  onProgress?: BackupProgress,
): Promise<UploadResult> {
  const started = Date.now();
  const m = await readManifest(dir, id);
  const base = `${remotePrefix(s3)}${id}/`;
  let bytes = 0;
  for (const t of m.tables) {
    const body = await readFile(join(dir, id, t.file));
    bytes += body.length;
    await remote(s3.put(`${base}${t.file}`, body));
    await onProgress?.({ phase: 'object', table: t.name });
  }
  const manifest = await readFile(join(dir, id, MANIFEST));
  await remote(s3.put(`${base}${MANIFEST}`, manifest));
  return {
    id,
    location: `${remoteLocation(s3)}${id}/`,
    objects: m.tables.length + 1,
    bytes: bytes + manifest.length,
    durationMs: Date.now() - started,
  };
}

/** Ids of the complete backups in the storage (those whose manifest was uploaded): one listing. */
export async function remoteBackupIds(s3: S3Client): Promise<string[]> {
  const base = remotePrefix(s3);
  const { keys } = await remote(s3.list(base));
  const ids: string[] = [];
  for (const { key } of keys) {
    const rest = key.slice(base.length).split('/');
    if (rest.length === 2 && rest[1] === MANIFEST && rest[0] && BACKUP_ID.test(rest[0])) ids.push(rest[0]);
  }
  return ids;
}

/** Backup `id`'s manifest as stored in the storage. */
export async function readRemoteManifest(s3: S3Client, id: string): Promise<BackupManifest> {
  assertBackupId(id);
  const text = await remote(s3.get(`${remotePrefix(s3)}${id}/${MANIFEST}`)).catch((err) => {
    if (err instanceof BackupError && err.code === 'not_found')
      throw new BackupError(`backup ${id} not found in ${remoteLocation(s3)}`, 'not_found', MANIFEST);
    throw err;
  });
  return parseManifest(text.toString('utf8'), id);
}

/** Complete backups in the storage, newest first, like `listBackups`. */
export async function listRemoteBackups(s3: S3Client): Promise<BackupEntry[]> {
  const out: BackupEntry[] = [];
  for (const id of await remoteBackupIds(s3)) {
    try {
      out.push({ id, manifest: await readRemoteManifest(s3, id), error: null });
    } catch (err) {
      if (err instanceof BackupError && err.code === 'remote') throw err;
      out.push({ id, manifest: null, error: (err as Error).message });
    }
  }
  const key = (e: BackupEntry) => e.manifest?.createdAt ?? '';
  return out.sort((a, b) => (key(a) === key(b) ? b.id.localeCompare(a.id) : key(b).localeCompare(key(a))));
}

/**
 * Download backup `id` from the storage into `dir/<id>/` (through a partial directory renamed once
 * every object is on disk). Checks nothing beyond the manifest's shape: callers verify the copy
 * with `verifyBackup` like any local backup. Refuses when `dir/<id>` exists.
 */
export async function downloadBackup(s3: S3Client, id: string, dir: string): Promise<void> {
  assertBackupId(id);
  const base = `${remotePrefix(s3)}${id}/`;
  const m = await readRemoteManifest(s3, id);
  await mkdir(dir, { recursive: true });
  const partial = join(dir, `${PARTIAL_PREFIX}${id}`);
  await rm(partial, { recursive: true, force: true });
  await mkdir(partial);
  try {
    for (const t of m.tables) {
      const body = await remote(s3.get(`${base}${t.file}`)).catch((err) => {
        if (err instanceof BackupError && err.code === 'not_found')
          throw new BackupError(
            `backup ${id}: ${t.file} (table ${t.name}) is missing from ${remoteLocation(s3)}`,
            'corrupt',
            t.file,
            t.name,
          );
        throw err;
      });
      await writeFile(join(partial, t.file), body);
    }
    await writeFile(join(partial, MANIFEST), `${JSON.stringify(m, null, 2)}\n`);
    await fsyncPath(partial);
    await rename(partial, join(dir, id));
  } catch (err) {
    await rm(partial, { recursive: true, force: true }).catch(() => {});
    throw err;
  }
}

/**
 * Retention in the storage: keep the newest `keep` complete backups and delete the others —
 * manifest first, so a deletion cut short leaves no half backup that lists as complete.
 */
export async function pruneRemoteBackups(s3: S3Client, keep: number): Promise<string[]> {
  const entries = (await listRemoteBackups(s3)).filter((e) => e.manifest);
  const deleted: string[] = [];
  for (const e of entries.slice(Math.max(1, keep))) {
    const base = `${remotePrefix(s3)}${e.id}/`;
    await remote(s3.delete(`${base}${MANIFEST}`));
    for (const o of (await remote(s3.list(base))).keys) await remote(s3.delete(o.key));
    deleted.push(e.id);
  }
  return deleted;
}
