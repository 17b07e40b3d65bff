// Shared by `npm start` and `npm test`: only Node.js built-ins, because these
// run on a fresh machine before anything is installed.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const PNPM_VERSION = '12.4.2';

export function log(msg) {
  process.stdout.write(`\x1b[36m[qubot]\x1b[0m ${msg}\n`);
}

export function fail(msg) {
  process.stderr.write(`\x1b[31m[qubot]\x1b[0m ${msg}\n`);
  process.exit(1);
}

export function checkNode() {
  const [major, minor] = process.versions.node.split('.').map(Number);
  if (major < 20 || (major === 20 && minor < 19))
    fail(`Node.js 20.19 or newer is needed (this is ${process.version}).`);
}

/** pnpm at the pinned version: a global one when it matches, otherwise through npx. */
export function pnpmCommand() {
  const probe = spawnSync('pnpm', ['--version'], { encoding: 'utf8', shell: false });
  if (probe.status === 0 && probe.stdout.trim() === PNPM_VERSION) return ['pnpm'];
  return ['npx', '--yes', `pnpm@${PNPM_VERSION}`];
}

export function run(cmd, args, opts = {}) {
  const res = spawnSync(cmd, args, { cwd: ROOT, stdio: 'inherit', ...opts });
  if (res.error) fail(`${cmd} failed to start: ${res.error.message}`);
  return res.status ?? 1;
}

export function mustRun(cmd, args, opts = {}) {
  const status = run(cmd, args, opts);
  if (status !== 0) fail(`${[cmd, ...args].join(' ')} exited with ${status}`);
}

function newest(path, skip = []) {
  if (!existsSync(path)) return 0;
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  let max = st.mtimeMs;
  for (const entry of readdirSync(path)) {
    if (entry === 'node_modules' || entry === 'dist' || skip.includes(entry)) continue;
    max = Math.max(max, newest(join(path, entry), skip));
  }
  return max;
}

/** Install dependencies when node_modules is missing or older than the lockfile. */
export function ensureInstalled(pnpm) {
  const marker = join(ROOT, 'node_modules', '.modules.yaml');
  const lock = join(ROOT, 'pnpm-lock.yaml');
  if (
    existsSync(marker) &&
    statSync(marker).mtimeMs >= statSync(lock).mtimeMs &&
    existsSync(join(ROOT, 'packages/db/src/generated/client.ts'))
  )
    return;
  log('installing dependencies (pnpm install --frozen-lockfile)…');
  mustRun(pnpm[0], [...pnpm.slice(1), 'install', '--frozen-lockfile']);
}

/** Build the web app when its sources changed since the last build. */
export function ensureWebBuilt(pnpm) {
  const dist = join(ROOT, 'apps/web/dist/index.html');
  const src = Math.max(
    newest(join(ROOT, 'apps/web/src')),
    newest(join(ROOT, 'apps/web/index.html')),
    newest(join(ROOT, 'packages/api-contract/src')),
  );
  if (existsSync(dist) && statSync(dist).mtimeMs >= src) return;
  log('building the web app…');
  mustRun(pnpm[0], [...pnpm.slice(1), '--filter', '@qubot/web', 'run', 'build']);
}

export function spawnChild(cmd, args, opts = {}) {
  return spawn(cmd, args, { cwd: ROOT, stdio: 'inherit', ...opts });
}

/** The packages `pnpm build` compiles to dist/ for the production processes (docs/kubernetes.md). */
export const DIST_PACKAGES = [
  ['packages/core', 'index.js'],
  ['packages/api-contract', 'index.js'],
  ['packages/client', 'index.js'],
  ['packages/runtime', 'index.js'],
  ['packages/db', 'index.js'],
  ['apps/api', 'main.js'],
  ['apps/cli', 'main.js'],
];

/** Build the production JavaScript (dist/) when a package's sources changed since its last build. */
export function ensureDistBuilt(pnpm) {
  // Test files that need dist/ run in parallel: one builds, the others wait for it, then re-check.
  const lock = join(ROOT, '.qubot-test', 'dist-build.lock');
  mkdirSync(dirname(lock), { recursive: true });
  const deadline = Date.now() + 15 * 60_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch (err) {
      if (err.code !== 'EEXIST') throw err;
      // A lock left by a build that died (older than the longest build) is taken over.
      if (Date.now() - statSync(lock).mtimeMs > 15 * 60_000) rmSync(lock, { recursive: true, force: true });
      if (Date.now() > deadline) fail(`${lock} is held by another build: remove it if none runs`);
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 500);
    }
  }
  try {
    buildStaleDist(pnpm);
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

function buildStaleDist(pnpm) {
  const stale = DIST_PACKAGES.filter(([dir, entry]) => {
    const built = join(ROOT, dir, 'dist', entry);
    // Prisma's generated client is rewritten by every install: the schema tells when it changed.
    const changed = Math.max(
      newest(join(ROOT, dir, 'src'), ['generated']),
      dir === 'packages/db' ? newest(join(ROOT, 'prisma/schema.prisma')) : 0,
    );
    return !existsSync(built) || statSync(built).mtimeMs < changed;
  });
  if (stale.length === 0) return;
  log(`building dist/ (${stale.map(([dir]) => dir).join(', ')} changed)…`);
  const filters = DIST_PACKAGES.flatMap(([dir]) => ['--filter', `./${dir}`]);
  mustRun(pnpm[0], [...pnpm.slice(1), ...filters, '--workspace-concurrency=1', 'run', 'build']);
}
