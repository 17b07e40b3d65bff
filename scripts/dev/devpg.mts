import { startEmbeddedPostgres } from '/work/main/packages/db/src/embedded.ts';

const pg = await startEmbeddedPostgres({ dataDir: '/tmp/devpg', log: console.log });
console.log('URL', pg.adminUrl);
process.on('SIGTERM', async () => {
  await pg.stop();
  process.exit(0);
});
setInterval(() => {}, 1e9);
