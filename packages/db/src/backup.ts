// Logical backups of the whole database without pg_dump (the embedded server ships none): every
// table is read with COPY … TO STDOUT inside ONE repeatable-read, read-only transaction, so the
// files are one consistent snapshot, and gzip-compressed into a directory with a manifest. A
// backup is written to `.partial-<id>/` and renamed to `<id>/` only once its manifest is on disk:
// a crash never leaves a partial backup that lists as good. docs/backup.md.
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createGzip } from 'node:zlib';
import pg from 'pg';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import { listMigrations, MIGRATIONS_DIR, migrate } from './migrate.ts';

export const BACKUP_FORMAT = 1;
export const MANIFEST = 'manifest.json';
export const PARTIAL_PREFIX = '.partial-';
/** Backup ids are file names: nothing that could climb out of the backup directory. */
export const BACKUP_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$/;

export interface BackupTable {
  name: string;
  file: string;
  columns: string[];
  rows: number;
  /** SHA-256 of the uncompressed COPY text, rows in primary-key order. */
  sha256: string;
  bytes: number;
  compressedBytes: number;
}

export interface BackupSequence {
  name: string;
  lastValue: string;
  isCalled: boolean;
}

export interface BackupManifest {
  format: number;
  id: string;
  createdAt: string;
  createdBy: string;
  toolVersion: string;
  /** The newest migration applied to the database backed up. */
  migration: string;
  migrations: Array<{ name: string; checksum: string }>;
  tables: BackupTable[];
  sequences: BackupSequence[];
  /** event_counter's value in the snapshot: the last event number handed out. */
  eventSeq: string;
  totalRows: number;
  compressedBytes: number;
  /** Milliseconds the snapshot was held open. */
  durationMs: number;
}

/** Why a backup cannot be used; `file`/`table` name the part at fault. */
export class BackupError extends Error {
  constructor(
    message: string,
    readonly code: 'not_found' | 'corrupt' | 'incompatible' | 'target_not_empty' | 'invalid' | 'remote',
    readonly file?: string,
    readonly table?: string,
  ) {
    super(message);
    this.name = 'BackupError';
  }
}

/** Told of each step; a returned promise is awaited (tests act in the middle of a backup). */
export type BackupProgress = (step: { phase: string; table?: string }) => void | Promise<void>;

const ident = (s: string) => `"${s.replaceAll('"', '""')}"`;

/** Same text for the same rows on every server: UTC, ISO dates, exact floats. */
async function normaliseSession(client: pg.Client): Promise<void> {
  await client.query(
    "SET TIME ZONE 'UTC'; SET DateStyle = 'ISO, YMD'; SET extra_float_digits = 3; SET IntervalStyle = 'postgres'",
  );
}

interface TableShape {
  name: string;
  columns: string[];
  orderBy: string[];
}

/** Every table of the public schema but Prisma's bookkeeping (the manifest carries the migrations). */
async function tableShapes(client: pg.Client): Promise<TableShape[]> {
  const { rows } = await client.query<{ table_name: string; columns: string[]; pk: string[] | null }>(
    `SELECT c.relname AS table_name,
            ARRAY(SELECT a.attname::text FROM pg_attribute a
                  WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''
                  ORDER BY a.attnum) AS columns,
            (SELECT ARRAY(SELECT a.attname::text FROM unnest(i.indkey) WITH ORDINALITY k(attnum, n)
                          JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum ORDER BY k.n)
               FROM pg_index i WHERE i.indrelid = c.oid AND i.indisprimary) AS pk
       FROM pg_class c JOIN pg_namespace ns ON ns.oid = c.relnamespace
      WHERE ns.nspname = 'public' AND c.relkind IN ('r', 'p') AND c.relname <> '_prisma_migrations'
      ORDER BY c.relname`,
  );
  return rows.map((r) => ({
    name: r.table_name,
    columns: r.columns,
    orderBy: r.pk && r.pk.length > 0 ? r.pk : r.columns,
  }));
}

const copyOutSql = (t: { name: string; columns: string[]; orderBy: string[] }) =>
  `COPY (SELECT ${t.columns.map(ident).join(', ')} FROM ${ident(t.name)} ORDER BY ${t.orderBy
    .map(ident)
    .join(', ')}) TO STDOUT`;

/** Hashes and counts rows (one line each in COPY text format) of what flows through. */
class Digest extends Transform {
  readonly hash = createHash('sha256');
  rows = 0;
  bytes = 0;
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback) {
    this.hash.update(chunk);
    this.bytes += chunk.length;
    for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) this.rows++;
    cb(null, chunk);
  }
}

/** Counts bytes that flow through (the compressed size). */
class Counter extends Transform {
  bytes = 0;
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback) {
    this.bytes += chunk.length;
    cb(null, chunk);
  }
}

export async function fsyncPath(path: string): Promise<void> {
  const fh = await open(path, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

export function newBackupId(now = new Date()): string {
  const stamp = now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return `qb-${stamp}-${randomBytes(3).toString('hex')}`;
}

export function assertBackupId(id: string): void {
  if (!BACKUP_ID.test(id)) throw new BackupError(`"${id}" is not a backup id`, 'invalid');
}

export interface CreateBackupOptions {
  /** Database to back up. */
  url: string;
  /** Directory that holds the backups (created if missing). */
  dir: string;
  createdBy: string;
  toolVersion: string;
  id?: string;
  onProgress?: BackupProgress;
}

/** Take one consistent backup of the whole database; returns its manifest once it is complete on disk. */
export async function createBackup(opts: CreateBackupOptions): Promise<BackupManifest> {
  const id = opts.id ?? newBackupId();
  assertBackupId(id);
  const started = Date.now();
  await mkdir(opts.dir, { recursive: true });
  const partial = join(opts.dir, `${PARTIAL_PREFIX}${id}`);
  await mkdir(partial);
  const client = new pg.Client({ connectionString: opts.url, application_name: 'qubot-backup' });
  client.on('error', () => {});
  await client.connect();
  try {
    await normaliseSession(client);
    // Read-only repeatable read: one snapshot for every table, no lock that blocks a writer.
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const createdAt = new Date().toISOString();
    const migrations = await client.query<{ migration_name: string; checksum: string }>(
      `SELECT migration_name, checksum FROM "_prisma_migrations"
        WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL ORDER BY migration_name`,
    );
    const shapes = await tableShapes(client);
    const tables: BackupTable[] = [];
    for (const shape of shapes) {
      await opts.onProgress?.({ phase: 'table', table: shape.name });
      const file = `${shape.name}.copy.gz`;
      const digest = new Digest();
      const counter = new Counter();
      const out = join(partial, file);
      await pipeline(
        client.query(copyTo(copyOutSql(shape))),
        digest,
        createGzip({ level: 3 }),
        counter,
        createWriteStream(out),
      );
      await fsyncPath(out);
      tables.push({
        name: shape.name,
        file,
        columns: shape.columns,
        rows: digest.rows,
        sha256: digest.hash.digest('hex'),
        bytes: digest.bytes,
        compressedBytes: counter.bytes,
      });
    }
    const seqs = await client.query<{ name: string }>(
      `SELECT c.relname AS name FROM pg_class c JOIN pg_namespace ns ON ns.oid = c.relnamespace
        WHERE ns.nspname = 'public' AND c.relkind = 'S' ORDER BY c.relname`,
    );
    const sequences: BackupSequence[] = [];
    for (const s of seqs.rows) {
      // Sequences are outside the snapshot: their value may be ahead of the rows, never behind.
      const v = await client.query<{ last_value: string; is_called: boolean }>(
        `SELECT last_value::text, is_called FROM ${ident(s.name)}`,
      );
      const row = v.rows[0];
      if (row) sequences.push({ name: s.name, lastValue: row.last_value, isCalled: row.is_called });
    }
    const counter = await client.query<{ value: string }>(
      'SELECT value::text FROM event_counter WHERE id = 1',
    );
    await client.query('COMMIT');
    const last = migrations.rows.at(-1);
    if (!last) throw new BackupError('the database has no applied migration', 'invalid');
    const manifest: BackupManifest = {
      format: BACKUP_FORMAT,
      id,
      createdAt,
      createdBy: opts.createdBy,
      toolVersion: opts.toolVersion,
      migration: last.migration_name,
      migrations: migrations.rows.map((m) => ({ name: m.migration_name, checksum: m.checksum })),
      tables,
      sequences,
      eventSeq: counter.rows[0]?.value ?? '0',
      totalRows: tables.reduce((n, t) => n + t.rows, 0),
      compressedBytes: tables.reduce((n, t) => n + t.compressedBytes, 0),
      durationMs: Date.now() - started,
    };
    opts.onProgress?.({ phase: 'manifest' });
    const manifestPath = join(partial, MANIFEST);
    await writeFile(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`);
    await fsyncPath(manifestPath);
    await fsyncPath(partial);
    // The rename is the commit: before it the backup does not exist for list/verify/restore.
    await rename(partial, join(opts.dir, id));
    await fsyncPath(opts.dir);
    return manifest;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    await rm(partial, { recursive: true, force: true }).catch(() => {});
    throw err;
  } finally {
    await client.end().catch(() => {});
  }
}

/** The manifest of backup `id`, checked for shape; throws BackupError naming manifest.json. */
export async function readManifest(dir: string, id: string): Promise<BackupManifest> {
  assertBackupId(id);
  const path = join(dir, id, MANIFEST);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    throw new BackupError(`backup ${id} not found in ${dir}`, 'not_found', MANIFEST);
  }
  return parseManifest(text, id);
}

/** A manifest's text, checked for shape (from a file or from object storage). */
export function parseManifest(text: string, id: string): BackupManifest {
  assertBackupId(id);
  let m: BackupManifest;
  try {
    m = JSON.parse(text) as BackupManifest;
  } catch {
    throw new BackupError(
      `backup ${id}: ${MANIFEST} is not valid JSON (corrupt or truncated)`,
      'corrupt',
      MANIFEST,
    );
  }
  if (
    m?.format !== BACKUP_FORMAT ||
    m.id !== id ||
    !Array.isArray(m.tables) ||
    !Array.isArray(m.migrations) ||
    !Array.isArray(m.sequences) ||
    typeof m.migration !== 'string'
  )
    throw new BackupError(
      `backup ${id}: ${MANIFEST} is not a Qubot backup manifest (format ${BACKUP_FORMAT})`,
      'corrupt',
      MANIFEST,
    );
  for (const t of m.tables)
    if (typeof t.file !== 'string' || t.file !== `${t.name}.copy.gz` || !/^[a-z0-9_]+$/.test(t.name))
      throw new BackupError(
        `backup ${id}: ${MANIFEST} names a bad table file "${t.file}"`,
        'corrupt',
        MANIFEST,
      );
  return m;
}

export interface BackupEntry {
  id: string;
  manifest: BackupManifest | null;
  /** Why the manifest could not be read (listed so an operator sees it, never used). */
  error: string | null;
}

/** Complete backups in `dir`, newest first. Partial ones (a crash mid-backup) are not listed. */
export async function listBackups(dir: string): Promise<BackupEntry[]> {
  let names: string[];
  try {
    names = (await readdir(dir, { withFileTypes: true }))
      .filter((d) => d.isDirectory() && BACKUP_ID.test(d.name))
      .map((d) => d.name);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const out: BackupEntry[] = [];
  for (const id of names) {
    try {
      out.push({ id, manifest: await readManifest(dir, id), error: null });
    } catch (err) {
      // A directory without a manifest is not a backup at all.
      if (err instanceof BackupError && err.code === 'not_found') continue;
      out.push({ id, manifest: null, error: (err as Error).message });
    }
  }
  const key = (e: BackupEntry) => e.manifest?.createdAt ?? '';
  return out.sort((a, b) => (key(a) === key(b) ? b.id.localeCompare(a.id) : key(b).localeCompare(key(a))));
}

async function digestFile(path: string, file: string, id: string, table: string): Promise<Digest> {
  const digest = new Digest();
  const sink = new Transform({ transform: (_c, _e, cb) => cb() });
  try {
    await pipeline(createReadStream(path), createGunzip(), digest, sink);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const why =
      e.code === 'ENOENT'
        ? 'is missing'
        : e.code === 'Z_BUF_ERROR' || /unexpected end/i.test(e.message)
          ? 'is truncated'
          : `is corrupt (${e.message})`;
    throw new BackupError(`backup ${id}: ${file} (table ${table}) ${why}`, 'corrupt', file, table);
  }
  sink.resume();
  return digest;
}

export interface VerifyResult {
  id: string;
  tables: number;
  rows: number;
  durationMs: number;
}

/** Check every file against the manifest (sizes, row counts, SHA-256); throws BackupError naming the file. */
export async function verifyBackup(dir: string, id: string): Promise<VerifyResult> {
  const started = Date.now();
  const m = await readManifest(dir, id);
  for (const t of m.tables) {
    const d = await digestFile(join(dir, id, t.file), t.file, id, t.name);
    const sha = d.hash.digest('hex');
    if (d.rows !== t.rows)
      throw new BackupError(
        `backup ${id}: ${t.file} (table ${t.name}) has ${d.rows} rows, the manifest says ${t.rows}`,
        'corrupt',
        t.file,
        t.name,
      );
    if (sha !== t.sha256 || d.bytes !== t.bytes)
      throw new BackupError(
        `backup ${id}: ${t.file} (table ${t.name}) does not match its checksum in the manifest`,
        'corrupt',
        t.file,
        t.name,
      );
  }
  return { id, tables: m.tables.length, rows: m.totalRows, durationMs: Date.now() - started };
}

/** Per-table row count and checksum of a live database, read in one snapshot (what a restore is compared with). */
export async function tableChecksums(url: string): Promise<Map<string, { rows: number; sha256: string }>> {
  const client = new pg.Client({ connectionString: url, application_name: 'qubot-backup-compare' });
  await client.connect();
  try {
    await normaliseSession(client);
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const out = new Map<string, { rows: number; sha256: string }>();
    for (const shape of await tableShapes(client)) {
      const digest = new Digest();
      const sink = new Transform({ transform: (_c, _e, cb) => cb() });
      const done = pipeline(client.query(copyTo(copyOutSql(shape))), digest, sink);
      sink.resume();
      await done;
      out.set(shape.name, { rows: digest.rows, sha256: digest.hash.digest('hex') });
    }
    await client.query('COMMIT');
    return out;
  } finally {
    await client.end().catch(() => {});
  }
}

/** Differences between a database and a manifest (empty: every table equal, row for row). */
export function compareWithManifest(
  m: BackupManifest,
  actual: Map<string, { rows: number; sha256: string }>,
): string[] {
  const problems: string[] = [];
  for (const t of m.tables) {
    const a = actual.get(t.name);
    if (!a) problems.push(`table ${t.name} is missing`);
    else if (a.rows !== t.rows) problems.push(`table ${t.name} has ${a.rows} rows, the backup ${t.rows}`);
    else if (a.sha256 !== t.sha256) problems.push(`table ${t.name} differs from the backup`);
  }
  return problems;
}

export interface RestoreOptions {
  dir: string;
  id: string;
  /** An existing, EMPTY database (no table in its public schema); nothing else is ever written. */
  targetUrl: string;
  /** Apply the migrations newer than the backup's afterwards (default true). */
  migrateForward?: boolean;
  migrationsDir?: string;
  onProgress?: BackupProgress;
}

export interface RestoreResult {
  id: string;
  rows: number;
  tables: number;
  /** Migrations applied after the data (the backup was older than this version). */
  migratedForward: string[];
  durationMs: number;
}

/**
 * Restore backup `id` into an empty database: verify the files first (a bad file stops it before
 * anything is written), then in ONE transaction create the schema at the backup's migration, load
 * every table and set the sequences; then migrate forward. A crash rolls the transaction back and
 * leaves the target without even a schema.
 */
export async function restoreBackup(opts: RestoreOptions): Promise<RestoreResult> {
  const started = Date.now();
  const m = await readManifest(opts.dir, opts.id);
  opts.onProgress?.({ phase: 'verify' });
  await verifyBackup(opts.dir, opts.id);
  const known = new Map(listMigrations(opts.migrationsDir ?? MIGRATIONS_DIR).map((x) => [x.name, x]));
  const steps = m.migrations.map((bm) => {
    const local = known.get(bm.name);
    if (!local)
      throw new BackupError(
        `backup ${m.id} was taken at migration ${bm.name}, which this version of Qubot Deploy does not have (a newer version made it)`,
        'incompatible',
      );
    if (local.checksum !== bm.checksum)
      throw new BackupError(
        `migration ${bm.name} differs from the one the backup was taken at`,
        'incompatible',
      );
    return local;
  });
  const client = new pg.Client({ connectionString: opts.targetUrl, application_name: 'qubot-restore' });
  client.on('error', () => {});
  await client.connect();
  try {
    const present = await client.query<{ n: string }>(
      `SELECT count(*)::text AS n FROM pg_class c JOIN pg_namespace ns ON ns.oid = c.relnamespace
        WHERE ns.nspname = 'public' AND c.relkind IN ('r', 'p')`,
    );
    if (Number(present.rows[0]?.n ?? 0) > 0)
      throw new BackupError(
        'the target database is not empty: restore only writes into an empty database (nothing was changed)',
        'target_not_empty',
      );
    await normaliseSession(client);
    await client.query('BEGIN');
    opts.onProgress?.({ phase: 'schema' });
    for (const step of steps) {
      await client.query(step.sql);
    }
    await client.query(`CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
      "id" VARCHAR(36) PRIMARY KEY NOT NULL, "checksum" VARCHAR(64) NOT NULL, "finished_at" TIMESTAMPTZ,
      "migration_name" VARCHAR(255) NOT NULL, "logs" TEXT, "rolled_back_at" TIMESTAMPTZ,
      "started_at" TIMESTAMPTZ NOT NULL DEFAULT now(), "applied_steps_count" INTEGER NOT NULL DEFAULT 0)`);
    for (const step of steps)
      await client.query(
        `INSERT INTO "_prisma_migrations" (id, checksum, finished_at, migration_name, applied_steps_count)
         VALUES (gen_random_uuid()::text, $1, now(), $2, 1)`,
        [step.checksum, step.name],
      );
    // Rows go in as they were: no trigger (event NOTIFY, audit guard) and no foreign-key check
    // while tables are loaded in name order. Needs a superuser, as the embedded server's is.
    await client.query('SET LOCAL session_replication_role = replica');
    for (const t of m.tables) {
      opts.onProgress?.({ phase: 'table', table: t.name });
      // Rows a migration seeded (the event counter) give way to the backup's.
      await client.query(`DELETE FROM ${ident(t.name)}`);
      const digest = new Digest();
      await pipeline(
        createReadStream(join(opts.dir, m.id, t.file)),
        createGunzip(),
        digest,
        client.query(copyFrom(`COPY ${ident(t.name)} (${t.columns.map(ident).join(', ')}) FROM STDIN`)),
      );
      // The file could have changed since the verify pass.
      if (digest.hash.digest('hex') !== t.sha256 || digest.rows !== t.rows)
        throw new BackupError(
          `backup ${m.id}: ${t.file} (table ${t.name}) changed during the restore`,
          'corrupt',
          t.file,
          t.name,
        );
    }
    for (const s of m.sequences) {
      await client.query('SELECT setval($1::regclass, $2::bigint, $3)', [
        ident(s.name),
        s.lastValue,
        s.isCalled,
      ]);
    }
    opts.onProgress?.({ phase: 'commit' });
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    await client.end().catch(() => {});
  }
  const migratedForward =
    opts.migrateForward === false ? [] : await migrate(opts.targetUrl, opts.migrationsDir);
  return {
    id: m.id,
    rows: m.totalRows,
    tables: m.tables.length,
    migratedForward,
    durationMs: Date.now() - started,
  };
}

const RESTORING = '_restoring_';

/**
 * Restore into a NEW database `name` on the server of `adminUrl`: the data goes into a scratch
 * database first, renamed to `name` only when complete, so a crash never leaves a database with
 * that name that looks restored. Refuses when `name` exists.
 */
export async function restoreIntoNewDatabase(
  opts: Omit<RestoreOptions, 'targetUrl'> & { adminUrl: string; name: string },
): Promise<RestoreResult> {
  if (!/^[a-z_][a-z0-9_]{0,40}$/.test(opts.name))
    throw new BackupError(`"${opts.name}" is not a database name (a-z, 0-9, _)`, 'invalid');
  // Before anything is created: a bad backup changes nothing.
  await verifyBackup(opts.dir, opts.id);
  const admin = new pg.Client({ connectionString: opts.adminUrl });
  await admin.connect();
  const scratch = `${opts.name}${RESTORING}${randomBytes(4).toString('hex')}`;
  try {
    const exists = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [opts.name]);
    if (exists.rowCount)
      throw new BackupError(
        `database ${opts.name} already exists: restore only into a new database (nothing was changed)`,
        'target_not_empty',
      );
    await admin.query(`CREATE DATABASE ${ident(scratch)}`);
    const url = new URL(opts.adminUrl);
    url.pathname = `/${scratch}`;
    let result: RestoreResult;
    try {
      result = await restoreBackup({ ...opts, targetUrl: url.toString() });
      await admin.query(`ALTER DATABASE ${ident(scratch)} RENAME TO ${ident(opts.name)}`).catch((err) => {
        // A concurrent restore into the same name finished first: it wins, this one changes nothing.
        if ((err as { code?: string }).code === '42P04')
          throw new BackupError(
            `database ${opts.name} already exists: restore only into a new database (nothing was changed)`,
            'target_not_empty',
          );
        throw err;
      });
    } catch (err) {
      await admin.query(`DROP DATABASE IF EXISTS ${ident(scratch)} WITH (FORCE)`).catch(() => {});
      throw err;
    }
    return result;
  } finally {
    await admin.end().catch(() => {});
  }
}

/** Scratch databases of restores that died mid-way (`<name>_restoring_<hex>`); dropped by `dropStaleRestores`. */
export async function dropStaleRestores(adminUrl: string): Promise<string[]> {
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    const { rows } = await admin.query<{ datname: string }>(
      `SELECT datname FROM pg_database d WHERE datname ~ '_restoring_[0-9a-f]{8}$'
          AND NOT EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.datname = d.datname)`,
    );
    for (const r of rows) await admin.query(`DROP DATABASE IF EXISTS ${ident(r.datname)}`);
    return rows.map((r) => r.datname);
  } finally {
    await admin.end().catch(() => {});
  }
}

export interface PruneResult {
  deleted: string[];
  partialsRemoved: string[];
}

/**
 * Retention: keep the newest `keep` complete backups; delete older ones, and partial directories
 * left by a crash more than `partialMaxAgeMs` ago.
 */
export async function pruneBackups(
  dir: string,
  keep: number,
  partialMaxAgeMs = 6 * 3600_000,
): Promise<PruneResult> {
  const deleted: string[] = [];
  const partialsRemoved: string[] = [];
  const entries = (await listBackups(dir)).filter((e) => e.manifest);
  for (const e of entries.slice(Math.max(1, keep))) {
    await rm(join(dir, e.id), { recursive: true, force: true });
    deleted.push(e.id);
  }
  let names: string[] = [];
  try {
    names = (await readdir(dir)).filter((n) => n.startsWith(PARTIAL_PREFIX));
  } catch {}
  for (const n of names) {
    const s = await stat(join(dir, n)).catch(() => null);
    if (s && Date.now() - s.mtimeMs > partialMaxAgeMs) {
      await rm(join(dir, n), { recursive: true, force: true });
      partialsRemoved.push(n);
    }
  }
  return { deleted, partialsRemoved };
}

/** Remove backup `id` (its directory). */
export async function deleteBackup(dir: string, id: string): Promise<void> {
  await readManifest(dir, id);
  await rm(join(dir, id), { recursive: true, force: true });
}

/** Drop database `name` on the server of `serverUrl` (a drill's scratch database), ending its sessions. */
export async function dropDatabase(serverUrl: string, name: string): Promise<void> {
  const c = new pg.Client({ connectionString: serverUrl });
  await c.connect();
  try {
    await c.query(`DROP DATABASE IF EXISTS ${ident(name)} WITH (FORCE)`);
  } finally {
    await c.end().catch(() => {});
  }
}
