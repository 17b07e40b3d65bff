// `npm start`: install what is missing, build, start embedded PostgreSQL,
// migrate, seed the demo and serve the dashboard. Ctrl-C stops everything.
import { checkNode, ensureInstalled, ensureWebBuilt, log, pnpmCommand, spawnChild } from './lib.mjs';

checkNode();
const pnpm = pnpmCommand();
ensureInstalled(pnpm);
ensureWebBuilt(pnpm);

log('starting Qubot Deploy in demo mode (embedded PostgreSQL unless DATABASE_URL is set)…');
const child = spawnChild(process.execPath, [
  '--import',
  'tsx',
  'apps/api/src/main.ts',
  '--demo',
  ...process.argv.slice(2),
]);

// Ctrl-C reaches the whole process group; the server shuts itself down
// (in-flight requests, demo instances and routers, then PostgreSQL). Relay
// signals that arrive only here, and wait for it.
let forwarded = false;
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => {
    if (!forwarded) {
      forwarded = true;
      setTimeout(() => child.kill(sig), 200).unref();
    }
  });
}
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
