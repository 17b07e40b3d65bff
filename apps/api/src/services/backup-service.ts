// Backups of Qubot Deploy's own database, restore drills and retention (docs/backup.md). The files
// under the backup directory are the truth (packages/db/src/backup.ts); the `backups` rows are
// what the dashboard and /metrics read, so neither lists a directory or reads history per request.
import { createHash, randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type {
  Backup,
  BackupDetail,
  BackupLocation,
  BackupStatus,
  BackupVerification,
  RestoreResult,
} from '@qubot/api-contract';
import {
  appendAudit,
  BackupError,
  type BackupManifest,
  type BackupRepo,
  type BackupRow,
  compareWithManifest,
  createBackup,
  createS3Client,
  downloadBackup,
  dropDatabase,
  dropStaleRestores,
  listBackups,
  migrate,
  pruneBackups,
  pruneRemoteBackups,
  readManifest,
  readRemoteManifest,
  remoteBackupIds,
  remoteLocation,
  restoreIntoNewDatabase,
  type S3Target,
  type Transact,
  tableChecksums,
  uploadBackup,
  verifyBackup,
} from '@qubot/db';
import { AppError, ErrorCode } from '../lib/app-error.ts';
import { requirePermission } from '../lib/permissions.ts';
import { type RequestContext, SYSTEM_ACTOR } from '../lib/request-context.ts';

export interface BackupOptions {
  /** Where backups are written (QUBOT_BACKUP_DIR; default `<data dir>/backups`). */
  dir: string;
  /** Complete backups kept by retention (QUBOT_BACKUP_KEEP, default 7). */
  keep: number;
  /** A scheduled backup when the newest is older than this (QUBOT_BACKUP_EVERY_HOURS, default 24; null: off). */
  backupEveryMs: number | null;
  /** A restore drill of the newest backup when the last drill is older (QUBOT_RESTORE_DRILL_EVERY_HOURS, default 24; null: off). */
  drillEveryMs: number | null;
  /** Alert state when the last good drill is older than this (QUBOT_RESTORE_DRILL_MAX_AGE_HOURS, default 48). */
  drillMaxAgeMs: number;
  /** S3-compatible storage every backup is also uploaded to (QUBOT_BACKUP_S3_*); null: none. */
  remote?: S3Target | null;
}

export const DEFAULT_BACKUP_OPTIONS: Omit<BackupOptions, 'dir'> = {
  keep: 7,
  backupEveryMs: 24 * 3600_000,
  drillEveryMs: 24 * 3600_000,
  drillMaxAgeMs: 48 * 3600_000,
};

const SCHEDULE_ACTOR = 'system:backup-schedule';

const scheduleContext = (): RequestContext => {
  const ctx: RequestContext = {
    actor: { ...SYSTEM_ACTOR, name: SCHEDULE_ACTOR },
    requestId: `backup-schedule-${randomBytes(4).toString('hex')}`,
    clientIp: null,
    userAgent: null,
    auditFields: () => ({
      actor: SCHEDULE_ACTOR,
      role: SYSTEM_ACTOR.role,
      requestId: ctx.requestId,
      clientIp: null,
      userAgent: null,
    }),
  };
  return ctx;
};

/** BackupError → the API's envelope, naming the file and table at fault. */
function asAppError(err: unknown): unknown {
  if (!(err instanceof BackupError)) return err;
  const details = { reason: `backup_${err.code}`, file: err.file ?? null, table: err.table ?? null };
  switch (err.code) {
    case 'not_found':
      return new AppError(ErrorCode.NotFound, err.message, details);
    case 'invalid':
      return new AppError(ErrorCode.BadRequest, err.message, details);
    case 'remote':
      return new AppError(ErrorCode.BadGateway, err.message, details);
    default:
      return new AppError(ErrorCode.Conflict, err.message, details);
  }
}

function verificationOf(row: BackupRow | undefined): BackupVerification | null {
  if (!row?.verifiedAt || row.verifyOk === null) return null;
  return {
    ok: row.verifyOk,
    kind: row.verifyKind === 'drill' ? 'drill' : 'manual',
    at: row.verifiedAt.toISOString(),
    durationMs: row.verifyMs ?? 0,
    error: row.verifyError,
  };
}

function backupView(m: BackupManifest, row: BackupRow | undefined, locations: BackupLocation[]): Backup {
  return {
    id: m.id,
    createdAt: m.createdAt,
    createdBy: m.createdBy,
    toolVersion: m.toolVersion,
    migration: m.migration,
    rows: m.totalRows,
    compressedBytes: m.compressedBytes,
    durationMs: m.durationMs,
    verification: verificationOf(row),
    error: null,
    locations,
  };
}

const hours = (ms: number | null) => (ms === null ? null : ms / 3600_000);

export function createBackupService(deps: {
  transact: Transact;
  backups: Pick<BackupRepo, 'record' | 'markVerified' | 'findMany' | 'deleteMany' | 'status'>;
  /** The database backed up (the app's own). */
  databaseUrl: string;
  /** Boots the API against a restored database and checks /readyz (app.ts); throws when it is not ready. */
  bootCheck: (url: string) => Promise<void>;
  options: BackupOptions;
  toolVersion: string;
  now?: () => Date;
  /** Told after every backup, verification or prune (the /metrics status cache). */
  onChange?: () => void;
}) {
  const { backups, transact, options } = deps;
  const now = deps.now ?? (() => new Date());
  const s3 = options.remote ? createS3Client(options.remote) : null;
  const noRemote = (field: string) =>
    AppError.badField(
      field,
      'no S3-compatible storage is configured (QUBOT_BACKUP_S3_ENDPOINT, QUBOT_BACKUP_S3_BUCKET, … — docs/backup.md)',
    );
  const remoteIds = async (): Promise<Set<string>> =>
    s3 ? new Set(await remoteBackupIds(s3).catch((err) => Promise.reject(asAppError(err)))) : new Set();

  /**
   * Where verify/restore read backup `id`: the backup directory, or a fresh download from the
   * storage into a scratch directory under it (removed by `done`). Default: local when the backup
   * is there, else the storage.
   */
  async function sourceDir(
    id: string,
    source: BackupLocation | undefined,
    field: string,
  ): Promise<{ dir: string; done: () => Promise<void> }> {
    const local = { dir: options.dir, done: async () => {} };
    if (source === 'local') return local;
    if (source === undefined) {
      const there = await readManifest(options.dir, id).then(
        () => true,
        () => false,
      );
      if (there || !s3) return local;
    }
    if (!s3) throw noRemote(field);
    const dir = join(options.dir, `.partial-remote-${randomBytes(4).toString('hex')}`);
    const done = () => rm(dir, { recursive: true, force: true });
    try {
      await downloadBackup(s3, id, dir);
    } catch (err) {
      await done();
      throw asAppError(err);
    }
    return { dir, done };
  }
  // One backup and one drill at a time per process (a second request gets 409, not a queue).
  let creating: Promise<unknown> | null = null;
  let verifying: Promise<unknown> | null = null;

  async function audit(
    ctx: RequestContext,
    action: 'backup.create' | 'backup.verify' | 'backup.restore' | 'backup.prune',
    target: string,
    after: Record<string, unknown>,
    reason?: string | undefined,
  ) {
    deps.onChange?.();
    await transact((tx) =>
      appendAudit(tx, {
        ...ctx.auditFields(),
        action,
        targetType: 'backup',
        targetId: target,
        target,
        reason: reason ?? null,
        after: after as never,
      }),
    );
  }

  const recordManifest = (m: BackupManifest) =>
    backups.record({
      id: m.id,
      path: options.dir,
      sizeBytes: m.compressedBytes,
      rows: m.totalRows,
      migration: m.migration,
      durationMs: m.durationMs,
      tables: Object.fromEntries(m.tables.map((t) => [t.name, t.rows])),
      checksum: createHash('sha256')
        .update(m.tables.map((t) => t.sha256).join(''))
        .digest('hex'),
      createdBy: m.createdBy,
      createdAt: new Date(m.createdAt),
    });

  async function doCreate(
    ctx: RequestContext,
    reason?: string,
    target: BackupLocation = s3 ? 's3' : 'local',
  ): Promise<{ backup: Backup; uploadError: string | null }> {
    if (target === 's3' && !s3) throw noRemote('target');
    if (creating)
      throw AppError.conflict('a backup is already being taken by this server; try again when it ends');
    const run = createBackup({
      url: deps.databaseUrl,
      dir: options.dir,
      createdBy: ctx.actor.name,
      toolVersion: deps.toolVersion,
    });
    creating = run;
    let m: BackupManifest;
    try {
      m = await run;
    } finally {
      creating = null;
    }
    await recordManifest(m);
    let upload: { location: string; ok: boolean; error: string | null; durationMs: number } | null = null;
    if (target === 's3' && s3) {
      const started = Date.now();
      try {
        await uploadBackup(s3, options.dir, m.id);
        upload = {
          location: `${remoteLocation(s3)}${m.id}/`,
          ok: true,
          error: null,
          durationMs: Date.now() - started,
        };
      } catch (err) {
        upload = {
          location: remoteLocation(s3),
          ok: false,
          error: (err as Error).message,
          durationMs: Date.now() - started,
        };
      }
    }
    await audit(
      ctx,
      'backup.create',
      m.id,
      {
        rows: m.totalRows,
        bytes: m.compressedBytes,
        migration: m.migration,
        durationMs: m.durationMs,
        target,
        upload,
      },
      reason,
    );
    return {
      backup: backupView(m, undefined, upload?.ok ? ['local', 's3'] : ['local']),
      uploadError: upload && !upload.ok ? upload.error : null,
    };
  }

  /**
   * The restore drill: check the files, restore into a scratch database on the same server,
   * compare every table with the manifest, migrate forward, boot the API against it (/readyz),
   * then drop it. Recorded on the backup's row whatever the outcome.
   */
  async function drill(
    id: string,
    kind: 'drill' | 'manual',
    restore: boolean,
    dir = options.dir,
  ): Promise<BackupVerification> {
    if (verifying)
      throw AppError.conflict('a backup is already being verified by this server; try again when it ends');
    const started = Date.now();
    const run = (async () => {
      await verifyBackup(dir, id);
      if (!restore) return;
      const m = await readManifest(dir, id);
      await dropStaleRestores(deps.databaseUrl).catch(() => []);
      const name = `qubot_drill_${randomBytes(4).toString('hex')}`;
      const url = new URL(deps.databaseUrl);
      url.pathname = `/${name}`;
      try {
        await restoreIntoNewDatabase({
          adminUrl: deps.databaseUrl,
          name,
          dir,
          id,
          migrateForward: false,
        });
        const problems = compareWithManifest(m, await tableChecksums(url.toString()));
        if (problems.length)
          throw new Error(`restored database differs from the backup: ${problems.join('; ')}`);
        await migrate(url.toString());
        await deps.bootCheck(url.toString());
      } finally {
        await dropDatabase(deps.databaseUrl, name);
      }
    })();
    verifying = run;
    let error: string | null = null;
    try {
      await run;
    } catch (err) {
      if (err instanceof BackupError && err.code === 'not_found') throw asAppError(err);
      error = (err as Error).message;
    } finally {
      verifying = null;
    }
    const result = { ok: error === null, kind, error, ms: Date.now() - started, at: now() };
    // A files-only check that passes proves less than a drill: it is not recorded as one (the
    // alert keeps waiting for a real restore). One that fails marks the backup as bad.
    if (restore || !result.ok) {
      // A backup taken offline (or before this database was restored) gets its row now.
      if ((await backups.findMany([id])).length === 0) {
        const m = await readManifest(dir, id).catch(() => null);
        if (m) await recordManifest(m);
      }
      await backups.markVerified(id, result);
    }
    return { ok: result.ok, kind, error, durationMs: result.ms, at: result.at.toISOString() };
  }

  async function status(): Promise<BackupStatus> {
    const s = await backups.status();
    const lastDrill = s.lastDrill ? verificationOf(s.lastDrill) : null;
    const t = now().getTime();
    const goodAge = s.lastGoodDrillAt ? t - s.lastGoodDrillAt.getTime() : Number.POSITIVE_INFINITY;
    return {
      directory: options.dir,
      lastBackupAt: s.lastBackupAt?.toISOString() ?? null,
      lastBackupId: s.lastBackupId,
      lastDrill: s.lastDrill && lastDrill ? { id: s.lastDrill.id, ...lastDrill } : null,
      lastGoodDrillAt: s.lastGoodDrillAt?.toISOString() ?? null,
      drillState: goodAge > options.drillMaxAgeMs ? 'overdue' : lastDrill && !lastDrill.ok ? 'failing' : 'ok',
      schedule: {
        backupEveryHours: hours(options.backupEveryMs),
        drillEveryHours: hours(options.drillEveryMs),
        keep: options.keep,
        drillMaxAgeHours: options.drillMaxAgeMs / 3600_000,
      },
      remote:
        options.remote && s3
          ? {
              location: remoteLocation(s3),
              endpoint: options.remote.endpoint,
              bucket: options.remote.bucket,
              prefix: options.remote.prefix,
              region: options.remote.region,
              accessKeyId: options.remote.accessKeyId,
            }
          : null,
    };
  }

  return {
    /** The directory's backups and the storage's (one listing of it, manifests read only for backups not on disk). */
    async list(
      ctx: RequestContext,
      query: { source?: BackupLocation | undefined } = {},
    ): Promise<{ items: Backup[]; nextCursor: null }> {
      requirePermission(ctx, 'backups.manage');
      if (query.source === 's3' && !s3) throw noRemote('source');
      const onDisk = await listBackups(options.dir);
      const local = new Set(onDisk.map((e) => e.id));
      const inRemote = query.source === 'local' ? new Set<string>() : await remoteIds();
      const entries = query.source === 's3' ? onDisk.filter((e) => inRemote.has(e.id)) : onDisk;
      if (s3)
        for (const id of inRemote) {
          if (local.has(id)) continue;
          const manifest = await readRemoteManifest(s3, id).catch((err) => {
            if (err instanceof BackupError && err.code !== 'remote') return null;
            throw asAppError(err);
          });
          if (manifest) entries.push({ id, manifest, error: null });
        }
      const rows = new Map((await backups.findMany(entries.map((e) => e.id))).map((r) => [r.id, r]));
      const key = (e: (typeof entries)[number]) => e.manifest?.createdAt ?? '';
      entries.sort((a, b) => (key(a) === key(b) ? b.id.localeCompare(a.id) : key(b).localeCompare(key(a))));
      const items = entries.map((e): Backup => {
        const locations: BackupLocation[] = [
          ...(local.has(e.id) ? (['local'] as const) : []),
          ...(inRemote.has(e.id) ? (['s3'] as const) : []),
        ];
        if (e.manifest) return backupView(e.manifest, rows.get(e.id), locations);
        return {
          id: e.id,
          createdAt: new Date(0).toISOString(),
          createdBy: '',
          toolVersion: '',
          migration: '',
          rows: 0,
          compressedBytes: 0,
          durationMs: 0,
          verification: null,
          error: e.error,
          locations,
        };
      });
      return { items, nextCursor: null };
    },

    async get(ctx: RequestContext, id: string): Promise<BackupDetail> {
      requirePermission(ctx, 'backups.manage');
      const m = await readManifest(options.dir, id).catch((err) => {
        throw asAppError(err);
      });
      const [row] = await backups.findMany([id]);
      return {
        ...backupView(m, row, (await remoteIds()).has(id) ? ['local', 's3'] : ['local']),
        eventSeq: m.eventSeq,
        tables: m.tables.map((t) => ({
          name: t.name,
          rows: t.rows,
          sha256: t.sha256,
          bytes: t.bytes,
          compressedBytes: t.compressedBytes,
        })),
      };
    },

    async create(
      ctx: RequestContext,
      body: { reason?: string | undefined; target?: BackupLocation | undefined },
    ): Promise<Backup> {
      requirePermission(ctx, 'backups.manage');
      const { backup, uploadError } = await doCreate(ctx, body.reason, body.target);
      if (uploadError)
        throw new AppError(
          ErrorCode.BadGateway,
          `backup ${backup.id} was taken and kept in ${options.dir}, but the upload failed: ${uploadError}`,
          { reason: 'backup_remote', id: backup.id },
        );
      return backup;
    },

    async verify(
      ctx: RequestContext,
      id: string,
      body: { restore?: boolean | undefined; source?: BackupLocation | undefined },
    ): Promise<BackupVerification> {
      requirePermission(ctx, 'backups.manage');
      const from = await sourceDir(id, body.source, 'source');
      try {
        await readManifest(from.dir, id).catch((err) => {
          throw asAppError(err);
        });
        const result = await drill(id, 'manual', body.restore !== false, from.dir);
        await audit(ctx, 'backup.verify', id, {
          ...result,
          restore: body.restore !== false,
          source: from.dir === options.dir ? 'local' : 's3',
        });
        return result;
      } finally {
        await from.done();
      }
    },

    /** Into a NEW database on the same server; the running one is never overwritten (docs/backup.md). */
    async restore(
      ctx: RequestContext,
      id: string,
      body: { database: string; reason?: string | undefined; source?: BackupLocation | undefined },
    ): Promise<RestoreResult> {
      requirePermission(ctx, 'backups.manage');
      const from = await sourceDir(id, body.source, 'source');
      const r = await restoreIntoNewDatabase({
        adminUrl: deps.databaseUrl,
        name: body.database,
        dir: from.dir,
        id,
      })
        .catch((err) => {
          throw asAppError(err);
        })
        .finally(from.done);
      const result: RestoreResult = {
        id,
        database: body.database,
        rows: r.rows,
        tables: r.tables,
        migratedForward: r.migratedForward,
        durationMs: r.durationMs,
      };
      await audit(
        ctx,
        'backup.restore',
        id,
        { ...result, source: from.dir === options.dir ? 'local' : 's3' },
        body.reason,
      );
      return result;
    },

    async status(ctx: RequestContext): Promise<BackupStatus> {
      requirePermission(ctx, 'backups.manage');
      return status();
    },

    /** For /metrics: no permission check (the scrape is guarded by its own rule). */
    statusForMetrics: status,

    /**
     * One round of the schedule (run by one process of the cluster): a backup when the newest is
     * older than `backupEveryMs`, retention, then a drill of the newest backup when the last drill
     * is older than `drillEveryMs`.
     */
    async runSchedule(): Promise<{
      backup: string | null;
      /** Why the scheduled backup's upload to the storage failed (the local backup is kept). */
      uploadError: string | null;
      pruned: string[];
      prunedRemote: string[];
      drill: BackupVerification | null;
    }> {
      const ctx = scheduleContext();
      const t = now().getTime();
      const s = await backups.status();
      let backup: string | null = null;
      let uploadError: string | null = null;
      if (
        options.backupEveryMs !== null &&
        (!s.lastBackupAt || t - s.lastBackupAt.getTime() >= options.backupEveryMs)
      ) {
        const r = await doCreate(ctx);
        backup = r.backup.id;
        uploadError = r.uploadError;
      }
      const { deleted, partialsRemoved } = await pruneBackups(options.dir, options.keep);
      // Retention applies to the storage too; a storage that fails is retried next round.
      const prunedRemote = s3
        ? await pruneRemoteBackups(s3, options.keep).catch((err: Error) => {
            uploadError ??= `retention in the storage failed: ${err.message}`;
            return [];
          })
        : [];
      if (deleted.length) await backups.deleteMany(deleted);
      if (deleted.length || prunedRemote.length)
        await audit(ctx, 'backup.prune', [...new Set([...deleted, ...prunedRemote])].join(','), {
          deleted,
          partialsRemoved,
          remote: prunedRemote,
          keep: options.keep,
        });
      let result: BackupVerification | null = null;
      const lastDrillAt = s.lastDrill?.verifiedAt?.getTime() ?? 0;
      if (options.drillEveryMs !== null && (backup || t - lastDrillAt >= options.drillEveryMs)) {
        const newest = (await listBackups(options.dir)).find((e) => e.manifest);
        if (newest) {
          result = await drill(newest.id, 'drill', true);
          await audit(ctx, 'backup.verify', newest.id, { ...result, restore: true });
        }
      }
      return { backup, uploadError, pruned: deleted, prunedRemote, drill: result };
    },
  };
}
export type BackupService = ReturnType<typeof createBackupService>;
