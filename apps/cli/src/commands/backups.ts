import { str } from '../args-utils.ts';
import type { Command, Context } from '../command.ts';
import { ExitCode, UsageError } from '../exit-utils.ts';
import { shortTime, table } from '../format-utils.ts';

function oneId(ctx: Context): string {
  const [id, extra] = ctx.args;
  if (!id) throw new UsageError('missing <backup-id> (see qubot backup list)');
  if (extra !== undefined) throw new UsageError(`unexpected argument ${JSON.stringify(extra)}`);
  return id;
}

function noArgs(ctx: Context): void {
  if (ctx.args.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(ctx.args[0])}`);
}

/** `--target` / `--source`: where a backup is written or read. */
function location(ctx: Context, flag: 'target' | 'source'): 'local' | 's3' | undefined {
  const v = str(ctx.values, flag);
  if (v === undefined || v === 'local' || v === 's3') return v;
  throw new UsageError(`--${flag} must be local or s3, got ${JSON.stringify(v)}`);
}

const mb = (bytes: number) => `${(bytes / 1_048_576).toFixed(1)} MB`;

export const backupCreate: Command = {
  name: ['backup', 'create'],
  summary: "Back up Qubot Deploy's database now: one consistent snapshot, compressed (admin)",
  options: {
    reason: { type: 'string', value: 'TEXT', description: 'Why (kept in the audit trail)' },
    target: {
      type: 'string',
      value: 'local|s3',
      description:
        "s3: also upload to the server's S3-compatible storage (the default when it has one); local: the backup directory only",
    },
  },
  examples: ['qubot backup create', 'qubot backup create --target s3 --reason "before the upgrade" --json'],
  details:
    'Exit 0 when the backup is complete on disk (and in the storage with --target s3); 5 when this server is already taking one; 7 when the upload to the storage failed (the local backup is kept); 2 for --target s3 on a server without storage.',
  async run(ctx) {
    noArgs(ctx);
    const reason = str(ctx.values, 'reason');
    const target = location(ctx, 'target');
    const b = await ctx.client.call('POST /api/v1/backups', {
      body: { ...(reason ? { reason } : {}), ...(target ? { target } : {}) },
    });
    ctx.out.result(
      b,
      () =>
        `backup ${b.id}: ${b.rows} rows, ${mb(b.compressedBytes)}, ${b.durationMs} ms (migration ${b.migration}; in ${b.locations.join(' + ')})`,
    );
    return ExitCode.Ok;
  },
};

export const backupList: Command = {
  name: ['backup', 'list'],
  summary:
    'List backups (directory and S3-compatible storage), newest first, with the last restore drill and its alert state (admin)',
  options: {
    source: {
      type: 'string',
      value: 'local|s3',
      description: 'Only the backups in the directory or the storage',
    },
  },
  examples: ['qubot backup list', 'qubot backup list --source s3 --json'],
  async run(ctx) {
    noArgs(ctx);
    const source = location(ctx, 'source');
    const [list, status] = await Promise.all([
      ctx.client.call('GET /api/v1/backups', { query: source ? { source } : {} }),
      ctx.client.call('GET /api/v1/backups/status'),
    ]);
    ctx.out.result({ ...list, status }, () => {
      const s = ctx.out.style;
      const drill = status.lastDrill
        ? `${status.lastDrill.ok ? s.green('ok') : s.red('failed')} ${shortTime(status.lastDrill.at)} (${status.lastDrill.id})`
        : 'never';
      const head = [
        `directory: ${status.directory}`,
        ...(status.remote ? [`storage: ${status.remote.location} (${status.remote.endpoint})`] : []),
        `last restore drill: ${drill}${status.drillState === 'ok' ? '' : `  ${s.red(status.drillState.toUpperCase())}`}`,
      ];
      if (list.items.length === 0) return [...head, 'no backups yet'].join('\n');
      const rows = list.items.map((b) => [
        b.id,
        b.error ? s.red('unreadable') : shortTime(b.createdAt),
        String(b.rows),
        mb(b.compressedBytes),
        b.migration,
        b.verification ? (b.verification.ok ? s.green(`ok ${b.verification.kind}`) : s.red('failed')) : '-',
        b.locations.join('+'),
      ]);
      return [
        ...head,
        table(['ID', 'CREATED', 'ROWS', 'SIZE', 'MIGRATION', 'VERIFIED', 'WHERE'], rows, s),
      ].join('\n');
    });
    return ExitCode.Ok;
  },
};

export const backupVerify: Command = {
  name: ['backup', 'verify'],
  summary: 'Verify a backup: checksums of every file, then a restore drill into a scratch database (admin)',
  args: '<backup-id>',
  options: {
    'files-only': { type: 'boolean', description: 'Check the files against the manifest only (no restore)' },
    source: {
      type: 'string',
      value: 'local|s3',
      description: 'Check the copy in the directory or in the storage (default: local when there)',
    },
  },
  examples: [
    'qubot backup verify qb-20261201T040000Z-1a2b3c',
    'qubot backup verify qb-20261201T040000Z-1a2b3c --files-only',
  ],
  details:
    'Exit 0 when the backup restores and matches its manifest; 1 when it does not (the message names the file or table at fault).',
  async run(ctx) {
    const id = oneId(ctx);
    const source = location(ctx, 'source');
    const r = await ctx.client.call('POST /api/v1/backups/:id/verify', {
      params: { id },
      body: { ...(ctx.values['files-only'] ? { restore: false } : {}), ...(source ? { source } : {}) },
    });
    ctx.out.result(r, () =>
      r.ok ? `backup ${id} verified (${r.durationMs} ms)` : `backup ${id} FAILED: ${r.error}`,
    );
    return r.ok ? ExitCode.Ok : ExitCode.Error;
  },
};

export const backupRestore: Command = {
  name: ['backup', 'restore'],
  summary: 'Restore a backup into a NEW database on the server (admin); the running one is never overwritten',
  args: '<backup-id>',
  options: {
    database: {
      type: 'string',
      value: 'NAME',
      description: 'New database to create (a-z, 0-9, _; required)',
    },
    reason: { type: 'string', value: 'TEXT', description: 'Why (kept in the audit trail)' },
    source: {
      type: 'string',
      value: 'local|s3',
      description: 'Restore from the directory or from the storage (default: local when there)',
    },
  },
  examples: [
    'qubot backup restore qb-20261201T040000Z-1a2b3c --database qubot_restored',
    'qubot backup restore qb-20261201T040000Z-1a2b3c --database qubot_restored --source s3',
  ],
  details:
    'Disaster recovery (the server is gone or stopped) is done on the server machine instead: pnpm --filter @qubot/api restore (docs/backup.md). Exit 5 when the database exists or the backup is corrupt.',
  async run(ctx) {
    const id = oneId(ctx);
    const database = str(ctx.values, 'database');
    if (!database) throw new UsageError('--database is required: the NEW database to restore into');
    const reason = str(ctx.values, 'reason');
    const source = location(ctx, 'source');
    const r = await ctx.client.call('POST /api/v1/backups/:id/restore', {
      params: { id },
      body: { database, ...(reason ? { reason } : {}), ...(source ? { source } : {}) },
    });
    ctx.out.result(r, () =>
      [
        `restored ${id} into database ${r.database}: ${r.rows} rows in ${r.tables} tables, ${r.durationMs} ms`,
        ...(r.migratedForward.length ? [`migrated forward: ${r.migratedForward.join(', ')}`] : []),
      ].join('\n'),
    );
    return ExitCode.Ok;
  },
};

export const BACKUP_COMMANDS = [backupCreate, backupList, backupVerify, backupRestore];
