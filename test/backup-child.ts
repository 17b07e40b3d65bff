// A backup or restore in a process of its own, so a test can SIGKILL it mid-way. Prints each
// progress step as one line on stdout ("table events"), which the test waits for.
import { createBackup, restoreIntoNewDatabase } from '@qubot/db';

const [mode, url, dir, idOrName, name] = process.argv.slice(2);
const onProgress = (s: { phase: string; table?: string }): void => {
  process.stdout.write(`${s.phase}${s.table ? ` ${s.table}` : ''}\n`);
};
if (!mode || !url || !dir || !idOrName)
  throw new Error('usage: backup-child backup|restore URL DIR ID [NAME]');
if (mode === 'backup') {
  await createBackup({ url, dir, id: idOrName, createdBy: 'crash-test', toolVersion: 'test', onProgress });
} else {
  if (!name) throw new Error('restore needs a database name');
  await restoreIntoNewDatabase({ adminUrl: url, dir, id: idOrName, name, onProgress });
}
process.stdout.write('done\n');
