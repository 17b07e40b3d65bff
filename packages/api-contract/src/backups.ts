import Type from 'typebox';
import { NullableTimestamp, Reason, strict, Timestamp } from './common.ts';

/** A backup's directory name: `qb-<UTC time>-<hex>`. */
export const BackupId = Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$', maxLength: 100 });
export const BackupParams = Type.Object({ id: BackupId }, strict);
export type BackupParams = Type.Static<typeof BackupParams>;

/** Where a copy of a backup is kept. */
export const BackupLocation = Type.Union([Type.Literal('local'), Type.Literal('s3')]);
export type BackupLocation = Type.Static<typeof BackupLocation>;

export const BackupListQuery = Type.Object(
  {
    /** Only the backups in the directory (`local`) or in S3-compatible storage (`s3`); default both. */
    source: Type.Optional(BackupLocation),
  },
  strict,
);
export type BackupListQuery = Type.Static<typeof BackupListQuery>;

export const BackupRemote = Type.Object(
  {
    /** `s3://bucket/prefix/` */
    location: Type.String(),
    endpoint: Type.String(),
    bucket: Type.String(),
    prefix: Type.String(),
    region: Type.String(),
    accessKeyId: Type.String(),
  },
  strict,
);
export type BackupRemote = Type.Static<typeof BackupRemote>;

export const BackupTableView = Type.Object(
  {
    name: Type.String(),
    rows: Type.Integer(),
    sha256: Type.String(),
    bytes: Type.Integer(),
    compressedBytes: Type.Integer(),
  },
  strict,
);

export const BackupVerification = Type.Object(
  {
    ok: Type.Boolean(),
    kind: Type.Union([Type.Literal('drill'), Type.Literal('manual')]),
    at: Timestamp,
    durationMs: Type.Integer(),
    error: Type.Union([Type.String(), Type.Null()]),
  },
  strict,
);
export type BackupVerification = Type.Static<typeof BackupVerification>;

export const Backup = Type.Object(
  {
    id: BackupId,
    createdAt: Timestamp,
    createdBy: Type.String(),
    toolVersion: Type.String(),
    /** The newest migration of the database backed up. */
    migration: Type.String(),
    rows: Type.Integer(),
    compressedBytes: Type.Integer(),
    durationMs: Type.Integer(),
    /** Last check of this backup (restore drill or an admin's verify); null: never checked. */
    verification: Type.Union([BackupVerification, Type.Null()]),
    /** Set when the manifest cannot be read: such a backup is never used. */
    error: Type.Union([Type.String(), Type.Null()]),
    /** Where complete copies are: the backup directory and/or the S3-compatible storage. */
    locations: Type.Array(BackupLocation),
  },
  strict,
);
export type Backup = Type.Static<typeof Backup>;

export const BackupDetail = Type.Object(
  {
    ...Backup.properties,
    eventSeq: Type.String(),
    tables: Type.Array(BackupTableView),
  },
  strict,
);
export type BackupDetail = Type.Static<typeof BackupDetail>;

export const CreateBackupBody = Type.Object(
  {
    reason: Type.Optional(Reason),
    /** `s3`: also upload to the configured S3-compatible storage (the default when one is configured); `local`: the directory only. */
    target: Type.Optional(BackupLocation),
  },
  strict,
);
export type CreateBackupBody = Type.Static<typeof CreateBackupBody>;

export const VerifyBackupBody = Type.Object(
  {
    /** false: check the files against the manifest only (seconds); default: a full restore drill. */
    restore: Type.Optional(Type.Boolean()),
    /** Check the copy in the backup directory or the one in S3-compatible storage (default: local when present, else S3). */
    source: Type.Optional(BackupLocation),
  },
  strict,
);
export type VerifyBackupBody = Type.Static<typeof VerifyBackupBody>;

export const RestoreBackupBody = Type.Object(
  {
    /** A NEW database on the server the API uses; an existing one is never overwritten. */
    database: Type.String({ pattern: '^[a-z_][a-z0-9_]{0,40}$' }),
    reason: Type.Optional(Reason),
    /** Restore from the backup directory or from S3-compatible storage (default: local when present, else S3). */
    source: Type.Optional(BackupLocation),
  },
  strict,
);
export type RestoreBackupBody = Type.Static<typeof RestoreBackupBody>;

export const RestoreResult = Type.Object(
  {
    id: BackupId,
    database: Type.String(),
    rows: Type.Integer(),
    tables: Type.Integer(),
    migratedForward: Type.Array(Type.String()),
    durationMs: Type.Integer(),
  },
  strict,
);
export type RestoreResult = Type.Static<typeof RestoreResult>;

export const BackupStatus = Type.Object(
  {
    directory: Type.String(),
    lastBackupAt: NullableTimestamp,
    lastBackupId: Type.Union([Type.String(), Type.Null()]),
    lastDrill: Type.Union([
      Type.Object({ id: Type.String(), ...BackupVerification.properties }, strict),
      Type.Null(),
    ]),
    lastGoodDrillAt: NullableTimestamp,
    /** `ok`; `overdue` when the last good drill is older than `drillMaxAgeHours` (or there is none). */
    drillState: Type.Union([Type.Literal('ok'), Type.Literal('overdue'), Type.Literal('failing')]),
    schedule: Type.Object(
      {
        backupEveryHours: Type.Union([Type.Number(), Type.Null()]),
        drillEveryHours: Type.Union([Type.Number(), Type.Null()]),
        keep: Type.Integer(),
        drillMaxAgeHours: Type.Number(),
      },
      strict,
    ),
    /** The S3-compatible storage backups are uploaded to (QUBOT_BACKUP_S3_*); null: none. The secret key is never shown. */
    remote: Type.Union([BackupRemote, Type.Null()]),
  },
  strict,
);
export type BackupStatus = Type.Static<typeof BackupStatus>;
