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

const mb = (bytes: number) => `${(bytes / 1_048_576).toFixed(1)} MB`;

export const backupCreate: Command = {
  name: ['backup', 'create'],
  summary: "Back up Qubot Deploy's database now: one consistent snapshot, compressed (admin)",
  options: { reason: { type: 'string', value: 'TEXT', description: 'Why (kept in the audit trail)' } },
  examples: ['qubot backup create', 'qubot backup create --reason "before the upgrade" --json'],
  details: 'Exit 0 when the backup is complete on disk; 5 when this server is already taking one.',
  async run(ctx) {
    noArgs(ctx);
    const reason = str(ctx.values, 'reason');
    const b = await ctx.client.call('POST /api/v1/backups', { body: reason ? { reason } : {} });
    ctx.out.result(
      b,
      () =>
        `backup ${b.id}: ${b.rows} rows, ${mb(b.compressedBytes)}, ${b.durationMs} ms (migration ${b.migration})`,
    );
    return ExitCode.Ok;
  },
};

export const backupList: Command = {
  name: ['backup', 'list'],
  summary: 'List backups, newest first, with the last restore drill and its alert state (admin)',
  options: {},
  examples: ['qubot backup list', 'qubot backup list --json'],
  async run(ctx) {
    noArgs(ctx);
    const [list, status] = await Promise.all([
      ctx.client.call('GET /api/v1/backups'),
      ctx.client.call('GET /api/v1/backups/status'),
    ]);
    ctx.out.result({ ...list, status }, () => {
      const s = ctx.out.style;
      const drill = status.lastDrill
        ? `${status.lastDrill.ok ? s.green('ok') : s.red('failed')} ${shortTime(status.lastDrill.at)} (${status.lastDrill.id})`
        : 'never';
      const head = [
        `directory: ${status.directory}`,
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
      ]);
      return [...head, table(['ID', 'CREATED', 'ROWS', 'SIZE', 'MIGRATION', 'VERIFIED'], rows, s)].join('\n');
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
  },
  examples: [
    'qubot backup verify qb-20261201T040000Z-1a2b3c',
    'qubot backup verify qb-20261201T040000Z-1a2b3c --files-only',
  ],
  details:
    'Exit 0 when the backup restores and matches its manifest; 1 when it does not (the message names the file or table at fault).',
  async run(ctx) {
    const id = oneId(ctx);
    const r = await ctx.client.call('POST /api/v1/backups/:id/verify', {
      params: { id },
      body: ctx.values['files-only'] ? { restore: false } : {},
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
  },
  examples: ['qubot backup restore qb-20261201T040000Z-1a2b3c --database qubot_restored'],
  details:
    'Disaster recovery (the server is gone or stopped) is done on the server machine instead: pnpm --filter @qubot/api restore (docs/backup.md). Exit 5 when the database exists or the backup is corrupt.',
  async run(ctx) {
    const id = oneId(ctx);
    const database = str(ctx.values, 'database');
    if (!database) throw new UsageError('--database is required: the NEW database to restore into');
    const reason = str(ctx.values, 'reason');
    const r = await ctx.client.call('POST /api/v1/backups/:id/restore', {
      params: { id },
      body: { database, ...(reason ? { reason } : {}) },
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
