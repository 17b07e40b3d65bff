// Backups of Qubot Deploy's own database, restore drills and retention (docs/backup.md). The files
// under the backup directory are the truth (packages/db/src/backup.ts); the `backups` rows are
// what the dashboard and /metrics read, so neither lists a directory or reads history per request.
import { createHash, randomBytes } from 'node:crypto';
import type {
  Backup,
  BackupDetail,
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
  dropDatabase,
  dropStaleRestores,
  listBackups,
  migrate,
  pruneBackups,
  readManifest,
  restoreIntoNewDatabase,
  type Transact,
  tableChecksums,
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

function backupView(m: BackupManifest, row: BackupRow | undefined): Backup {
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

  async function doCreate(ctx: RequestContext, reason?: string): Promise<Backup> {
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
    await audit(
      ctx,
      'backup.create',
      m.id,
      { rows: m.totalRows, bytes: m.compressedBytes, migration: m.migration, durationMs: m.durationMs },
      reason,
    );
    return backupView(m, undefined);
  }

  /**
   * The restore drill: check the files, restore into a scratch database on the same server,
   * compare every table with the manifest, migrate forward, boot the API against it (/readyz),
   * then drop it. Recorded on the backup's row whatever the outcome.
   */
  async function drill(id: string, kind: 'drill' | 'manual', restore: boolean): Promise<BackupVerification> {
    if (verifying)
      throw AppError.conflict('a backup is already being verified by this server; try again when it ends');
    const started = Date.now();
    const run = (async () => {
      await verifyBackup(options.dir, id);
      if (!restore) return;
      const m = await readManifest(options.dir, id);
      await dropStaleRestores(deps.databaseUrl).catch(() => []);
      const name = `qubot_drill_${randomBytes(4).toString('hex')}`;
      const url = new URL(deps.databaseUrl);
      url.pathname = `/${name}`;
      try {
        await restoreIntoNewDatabase({
          adminUrl: deps.databaseUrl,
          name,
          dir: options.dir,
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
        const m = await readManifest(options.dir, id).catch(() => null);
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
      remote: null,
    };
  }

  return {
    async list(ctx: RequestContext): Promise<{ items: Backup[]; nextCursor: null }> {
      requirePermission(ctx, 'backups.manage');
      const entries = await listBackups(options.dir);
      const rows = new Map((await backups.findMany(entries.map((e) => e.id))).map((r) => [r.id, r]));
      const items = entries.map((e): Backup => {
        if (e.manifest) return backupView(e.manifest, rows.get(e.id));
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
        ...backupView(m, row),
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

    async create(ctx: RequestContext, body: { reason?: string | undefined }): Promise<Backup> {
      requirePermission(ctx, 'backups.manage');
      return doCreate(ctx, body.reason);
    },

    async verify(
      ctx: RequestContext,
      id: string,
      body: { restore?: boolean | undefined },
    ): Promise<BackupVerification> {
      requirePermission(ctx, 'backups.manage');
      await readManifest(options.dir, id).catch((err) => {
        throw asAppError(err);
      });
      const result = await drill(id, 'manual', body.restore !== false);
      await audit(ctx, 'backup.verify', id, { ...result, restore: body.restore !== false });
      return result;
    },

    /** Into a NEW database on the same server; the running one is never overwritten (docs/backup.md). */
    async restore(
      ctx: RequestContext,
      id: string,
      body: { database: string; reason?: string | undefined },
    ): Promise<RestoreResult> {
      requirePermission(ctx, 'backups.manage');
      const r = await restoreIntoNewDatabase({
        adminUrl: deps.databaseUrl,
        name: body.database,
        dir: options.dir,
        id,
      }).catch((err) => {
        throw asAppError(err);
      });
      const result: RestoreResult = {
        id,
        database: body.database,
        rows: r.rows,
        tables: r.tables,
        migratedForward: r.migratedForward,
        durationMs: r.durationMs,
      };
      await audit(ctx, 'backup.restore', id, { ...result }, body.reason);
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
      pruned: string[];
      drill: BackupVerification | null;
    }> {
      const ctx = scheduleContext();
      const t = now().getTime();
      const s = await backups.status();
      let backup: string | null = null;
      if (
        options.backupEveryMs !== null &&
        (!s.lastBackupAt || t - s.lastBackupAt.getTime() >= options.backupEveryMs)
      )
        backup = (await doCreate(ctx)).id;
      const { deleted, partialsRemoved } = await pruneBackups(options.dir, options.keep);
      if (deleted.length) {
        await backups.deleteMany(deleted);
        await audit(ctx, 'backup.prune', deleted.join(','), { deleted, partialsRemoved, keep: options.keep });
      }
      let result: BackupVerification | null = null;
      const lastDrillAt = s.lastDrill?.verifiedAt?.getTime() ?? 0;
      if (options.drillEveryMs !== null && (backup || t - lastDrillAt >= options.drillEveryMs)) {
        const newest = (await listBackups(options.dir)).find((e) => e.manifest);
        if (newest) {
          result = await drill(newest.id, 'drill', true);
          await audit(ctx, 'backup.verify', newest.id, { ...result, restore: true });
        }
      }
      return { backup, pruned: deleted, drill: result };
    },
  };
}
export type BackupService = ReturnType<typeof createBackupService>;
