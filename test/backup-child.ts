// A backup, restore or upload to S3-compatible storage in a process of its own, so a test can SIGKILL it mid-way. Prints each
// progress step as one line on stdout ("table events"), which the test waits for.
import { createBackup, createS3Client, restoreIntoNewDatabase, uploadBackup } from '@qubot/db';

const [mode, url, dir, idOrName, name] = process.argv.slice(2);
const onProgress = (s: { phase: string; table?: string }): void => {
  process.stdout.write(`${s.phase}${s.table ? ` ${s.table}` : ''}\n`);
};
if (!mode || !url || !dir || !idOrName)
  throw new Error('usage: backup-child backup|restore|upload URL DIR ID [NAME]');
if (mode === 'upload') {
  // The storage's settings come in QUBOT_TEST_S3_TARGET (JSON), not on the command line.
  await uploadBackup(
    createS3Client(JSON.parse(process.env.QUBOT_TEST_S3_TARGET ?? '{}')),
    dir,
    idOrName,
    onProgress,
  );
} else if (mode === 'backup') {
  await createBackup({ url, dir, id: idOrName, createdBy: 'crash-test', toolVersion: 'test', onProgress });
} else {
  if (!name) throw new Error('restore needs a database name');
  await restoreIntoNewDatabase({ adminUrl: url, dir, id: idOrName, name, onProgress });
}
process.stdout.write('done\n');
