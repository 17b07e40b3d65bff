import { type Db, readAll } from '../client.ts';

export interface BackupRow {
  id: string;
  path: string;
  sizeBytes: bigint;
  rows: bigint;
  migration: string;
  durationMs: number;
  tables: unknown;
  checksum: string;
  createdBy: string;
  createdAt: Date;
  verifiedAt: Date | null;
  verifyOk: boolean | null;
  verifyKind: string | null;
  verifyError: string | null;
  verifyMs: number | null;
}

export interface BackupRecord {
  id: string;
  path: string;
  sizeBytes: number;
  rows: number;
  migration: string;
  durationMs: number;
  tables: Record<string, number>;
  checksum: string;
  createdBy: string;
  createdAt: Date;
}

export interface BackupStatusRow {
  lastBackupAt: Date | null;
  lastBackupId: string | null;
  lastDrill: BackupRow | null;
  lastGoodDrillAt: Date | null;
}

/** The backup catalogue (table backups): what the dashboard and /metrics read; the files are the truth. */
export function createBackupRepo(root: Db) {
  return {
    async record(b: BackupRecord, db: Db = root): Promise<void> {
      const data = {
        path: b.path,
        sizeBytes: BigInt(b.sizeBytes),
        rows: BigInt(b.rows),
        migration: b.migration,
        durationMs: b.durationMs,
        tables: b.tables,
        checksum: b.checksum,
        createdBy: b.createdBy,
        createdAt: b.createdAt,
      };
      await db.backup.upsert({ where: { id: b.id }, create: { id: b.id, ...data }, update: data });
    },

    async markVerified(
      id: string,
      result: { ok: boolean; kind: 'drill' | 'manual'; error: string | null; ms: number; at: Date },
      db: Db = root,
    ): Promise<void> {
      await db.backup.updateMany({
        where: { id },
        data: {
          verifiedAt: result.at,
          verifyOk: result.ok,
          verifyKind: result.kind,
          verifyError: result.error,
          verifyMs: result.ms,
        },
      });
    },

    async findMany(ids: string[], db: Db = root): Promise<BackupRow[]> {
      if (ids.length === 0) return [];
      return db.backup.findMany({ where: { id: { in: ids } } });
    },

    /** Rows whose files are gone (retention, a deleted directory). */
    async deleteMany(ids: string[], db: Db = root): Promise<void> {
      if (ids.length === 0) return;
      await db.backup.deleteMany({ where: { id: { in: ids } } });
    },

    /** Newest backup, newest verification and newest good one: three index probes. */
    async status(db: Db = root): Promise<BackupStatusRow> {
      const [last, drill, good] = await readAll(db, root, [
        () => db.backup.findFirst({ orderBy: { createdAt: 'desc' }, select: { id: true, createdAt: true } }),
        () => db.backup.findFirst({ where: { verifiedAt: { not: null } }, orderBy: { verifiedAt: 'desc' } }),
        () =>
          db.backup.findFirst({
            where: { verifyOk: true, verifiedAt: { not: null } },
            orderBy: { verifiedAt: 'desc' },
            select: { verifiedAt: true },
          }),
      ]);
      return {
        lastBackupAt: last?.createdAt ?? null,
        lastBackupId: last?.id ?? null,
        lastDrill: drill,
        lastGoodDrillAt: good?.verifiedAt ?? null,
      };
    },
  };
}
export type BackupRepo = ReturnType<typeof createBackupRepo>;
