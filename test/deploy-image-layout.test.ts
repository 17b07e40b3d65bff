// The container image's final stage, assembled without a container engine (none runs here): the
// Dockerfile's own COPY lines and production `pnpm install` (run offline from the local pnpm
// store) replayed into a temporary directory standing for the image's /app, then its ENTRYPOINT
// started with its ENV on an external PostgreSQL (Debian's). Proves the final stage has what the
// control plane needs and no development tools: it becomes ready and serves the dashboard with
// production dependencies only. What it cannot check: the base image, the user, the HEALTHCHECK
// (test/deploy-dockerfile.test.ts lints those).
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { freePort } from '@qubot/runtime';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type ExternalPostgres, startDebianPostgres } from './debian-postgres.ts';
import { parseDockerfile, type Stage } from './dockerfile.ts';

const ROOT = join(import.meta.dirname, '..');
const stages = parseDockerfile(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'));
const stageDirs = new Map<string, string>();
let work: string;
let pg: ExternalPostgres | null = null;
let child: ChildProcess | null = null;

/** pnpm at the pinned version, as scripts/lib.mjs finds it. */
const PNPM = (() => {
  try {
    if (execFileSync('pnpm', ['--version'], { encoding: 'utf8' }).trim() === '12.4.2') return ['pnpm'];
  } catch {}
  return ['npx', '--yes', 'pnpm@12.4.2'];
})();

/** The directory standing for a stage's filesystem: the build stage is this checkout after `pnpm build`. */
const fsOf = (name: string) => (name === 'build' ? ROOT : (stageDirs.get(name) as string));

/** Replays a stage's WORKDIR-relative COPY --from lines and pnpm installs into `dir`. */
function replay(stage: Stage, dir: string) {
  for (const i of stage.instructions) {
    if (i.op === 'COPY') {
      const words = i.args.split(/\s+/);
      const from = words[0]?.replace(/^--from=/, '') as string;
      expect(words[0], `line ${i.line}: COPY without --from`).toMatch(/^--from=/);
      const dest = join(dir, words[words.length - 1] as string);
      for (const src of words.slice(1, -1)) {
        // Every stage works in /src (build, prod-deps); the path under it is the checkout's.
        const path = join(fsOf(from), src.replace(/^\/src\/?/, ''));
        const target =
          dest.endsWith('/') || words.length > 3 ? join(dest, src.split('/').pop() as string) : dest;
        mkdirSync(dirname(target), { recursive: true });
        cpSync(path, src.endsWith('/') ? dest : target, { recursive: true, verbatimSymlinks: true });
      }
    } else if (i.op === 'RUN' && /^pnpm install\b/.test(i.args)) {
      const args = i.args.split(/\s+/).slice(1);
      execFileSync(PNPM[0] as string, [...PNPM.slice(1), ...args, '--offline'], { cwd: dir, stdio: 'pipe' });
    }
  }
}

beforeAll(async () => {
  execFileSync(process.execPath, [join(ROOT, 'scripts/build-dist.mjs')], { cwd: ROOT, stdio: 'inherit' });
  expect(
    existsSync(join(ROOT, 'apps/web/dist/index.html')),
    'the web app is built (npm test builds it)',
  ).toBe(true);
  work = mkdtempSync(join(tmpdir(), 'qubot-image-'));
  for (const stage of stages.slice(1)) {
    const dir = join(work, stage.name ?? 'final');
    mkdirSync(dir, { recursive: true });
    stageDirs.set(stage.name ?? 'final', dir);
    replay(stage, dir);
  }
  pg = await startDebianPostgres();
}, 400_000);

afterAll(async () => {
  if (child && child.exitCode === null) {
    const exited = new Promise((r) => child?.once('exit', r));
    child.kill('SIGKILL');
    await exited;
  }
  await pg?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

it('[DEPLOY] the final stage replayed without a container engine: production dependencies only, ready on /readyz, serves the dashboard', async () => {
  const final = stages[stages.length - 1] as Stage;
  const app = stageDirs.get(final.name ?? 'final') as string;
  // No development tool came along with the production dependencies.
  const installed = readdirSync(join(app, 'node_modules/.pnpm'));
  for (const dev of ['tsx@', 'vitest@', 'vite@', '@biomejs', '@playwright', 'esbuild@'])
    expect(installed.filter((p) => p.startsWith(dev.replace('/', '+')))).toEqual([]);

  const env: Record<string, string> = { PATH: process.env.PATH ?? '' };
  for (const i of final.instructions.filter((x) => x.op === 'ENV'))
    for (const [, k, v] of i.args.matchAll(/(\w+)=(\S+)/g)) env[k as string] = v as string;
  const port = await freePort();
  Object.assign(env, {
    PORT: String(port),
    HOST: '127.0.0.1',
    DATABASE_URL: pg?.url as string,
    QUBOT_DATA_DIR: join(work, 'data'),
    LOG_LEVEL: 'warn',
  });
  const entry = JSON.parse(final.instructions.find((x) => x.op === 'ENTRYPOINT')?.args ?? '[]') as string[];
  const cmd = JSON.parse(final.instructions.find((x) => x.op === 'CMD')?.args ?? '[]') as string[];
  expect(entry[0]).toBe('node');
  const logs: string[] = [];
  child = spawn(process.execPath, [...entry.slice(1), ...cmd], {
    cwd: app,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (c: Buffer) => logs.push(c.toString()));
  child.stderr?.on('data', (c: Buffer) => logs.push(c.toString()));
  const base = `http://127.0.0.1:${port}`;
  const proc = child;
  await expect
    .poll(
      async () => {
        if (proc.exitCode !== null) throw new Error(`exited with ${proc.exitCode}: ${logs.join('')}`);
        return fetch(`${base}/readyz`).then(
          (r) => r.status,
          () => 0,
        );
      },
      { timeout: 120_000, interval: 200 },
    )
    .toBe(200);
  const page = await fetch(`${base}/`);
  expect(page.status).toBe(200);
  expect(await page.text()).toMatch(/<div id="root">/);
  // The built API, not TypeScript through tsx.
  const cmdline = readFileSync(`/proc/${proc.pid}/cmdline`, 'utf8').split('\0').join(' ');
  expect(cmdline).toContain('apps/api/dist/main.js');
  expect(cmdline).not.toMatch(/tsx/);
}, 200_000);
