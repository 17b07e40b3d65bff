// Disaster recovery, with the server stopped (docs/backup.md):
//   pnpm --filter @qubot/api restore -- --backup-dir DIR [--id ID] [--data-dir DIR]
// restores backup ID (default: the newest) into a FRESH data directory's embedded PostgreSQL, or,
// with DATABASE_URL set, into that database, which must not exist yet. The files are verified
// before anything is created; the database appears under its name only once it is complete.
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import {
  BackupError,
  defaultDataDir,
  listBackups,
  restoreIntoNewDatabase,
  startEmbeddedPostgres,
  verifyBackup,
} from '@qubot/db';

const USAGE =
  'usage: qubot-api restore --backup-dir DIR [--id BACKUP_ID] [--data-dir DIR] [--verify-only]\n' +
  '  DATABASE_URL set: restore into that database (it must not exist yet) instead of the embedded server.';

async function main(): Promise<number> {
  const { values } = parseArgs({
    args: process.argv.slice(2).filter((a) => a !== '--'),
    options: {
      'backup-dir': { type: 'string' },
      id: { type: 'string' },
      'data-dir': { type: 'string' },
      'verify-only': { type: 'boolean' },
      help: { type: 'boolean' },
    },
    strict: true,
  });
  if (values.help || !values['backup-dir']) {
    process.stderr.write(`${USAGE}\n`);
    return values.help ? 0 : 2;
  }
  const dir = resolve(values['backup-dir']);
  const id = values.id ?? (await listBackups(dir)).find((e) => e.manifest)?.id;
  if (!id) {
    process.stderr.write(`restore: no complete backup in ${dir}\n`);
    return 4;
  }
  const log = (line: string): void => {
    process.stderr.write(`restore: ${line}\n`);
  };
  log(`verifying ${id} in ${dir}`);
  const checked = await verifyBackup(dir, id);
  log(`files match the manifest: ${checked.tables} tables, ${checked.rows} rows`);
  if (values['verify-only']) return 0;

  const onProgress = (s: { phase: string; table?: string }) =>
    log(`${s.phase}${s.table ? ` ${s.table}` : ''}`);
  const external = process.env.DATABASE_URL;
  if (external) {
    const target = new URL(external);
    const name = decodeURIComponent(target.pathname.slice(1));
    target.pathname = '/postgres';
    const r = await restoreIntoNewDatabase({ adminUrl: target.toString(), name, dir, id, onProgress });
    log(
      `restored ${r.rows} rows into ${name} in ${r.durationMs} ms; migrated forward: ${r.migratedForward.join(', ') || 'none'}`,
    );
    return 0;
  }
  const dataDir = resolve(values['data-dir'] ?? defaultDataDir());
  const server = await startEmbeddedPostgres({ dataDir, log });
  try {
    const r = await restoreIntoNewDatabase({ adminUrl: server.adminUrl, name: 'qubot', dir, id, onProgress });
    log(
      `restored ${r.rows} rows into ${dataDir} in ${r.durationMs} ms; migrated forward: ${r.migratedForward.join(', ') || 'none'}`,
    );
    log(
      'start the server with the same QUBOT_DATA_DIR; put the secret.key of the old data directory back first (configuration secrets)',
    );
  } finally {
    await server.stop();
  }
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(
      `restore: ${err instanceof BackupError ? err.message : ((err as Error).stack ?? String(err))}\n`,
    );
    process.stderr.write('restore: nothing was overwritten\n');
    process.exit(err instanceof BackupError ? 5 : 1);
  },
);
