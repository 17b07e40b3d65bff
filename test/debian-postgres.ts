// An external PostgreSQL server for the multi-replica tests: Debian's `postgresql` package (the
// server binaries in /usr/lib/postgresql/<version>/bin, installed by scripts/test.mjs when
// missing), a fresh cluster made with initdb in a temporary directory, the server started on a
// free loopback port — the role a managed PostgreSQL plays for a control plane on Kubernetes.
// Not the embedded one the other tests share: every control-plane process here reaches it over
// TCP with a DATABASE_URL, as the chart's pods do.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { freePort } from '@qubot/runtime';

export function debianPostgresBin(): string | null {
  const base = '/usr/lib/postgresql';
  if (!existsSync(base)) return null;
  const versions = readdirSync(base)
    .filter((v) => existsSync(join(base, v, 'bin', 'postgres')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] ? join(base, versions[0], 'bin') : null;
}

export interface ExternalPostgres {
  /** `postgresql://qubot:…@127.0.0.1:<port>/qubot` */
  url: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

export async function startDebianPostgres(): Promise<ExternalPostgres> {
  const bin = debianPostgresBin();
  if (!bin) throw new Error("Debian's PostgreSQL server is not installed (apt-get install postgresql)");
  // PostgreSQL refuses to run as root: as root, the cluster belongs to the `postgres` OS user.
  const ids =
    userInfo().uid === 0
      ? {
          uid: Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim()),
          gid: Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim()),
        }
      : {};
  const dir = mkdtempSync('/tmp/qubot-extpg-');
  const password = randomBytes(12).toString('hex');
  writeFileSync(join(dir, 'pw'), password, { mode: 0o600 });
  if (ids.uid !== undefined) chownSync(dir, ids.uid, ids.gid as number);
  if (ids.uid !== undefined) chownSync(join(dir, 'pw'), ids.uid, ids.gid as number);
  execFileSync(
    join(bin, 'initdb'),
    [
      '-D',
      join(dir, 'data'),
      '-U',
      'qubot',
      `--pwfile=${join(dir, 'pw')}`,
      '-A',
      'scram-sha-256',
      '-E',
      'UTF8',
    ],
    { ...ids, stdio: 'ignore' },
  );
  const port = await freePort();
  const server = spawn(
    join(bin, 'postgres'),
    [
      '-D',
      join(dir, 'data'),
      '-p',
      String(port),
      '-k',
      dir,
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'max_connections=200',
      '-c',
      'fsync=off',
    ],
    { ...ids, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  await new Promise<void>((ok, fail) => {
    server.stderr?.on('data', (chunk: Buffer) => {
      log += chunk.toString();
      if (log.includes('database system is ready to accept connections')) ok();
    });
    server.once('exit', (code) => fail(new Error(`postgres exited with ${code}: ${log.slice(-2000)}`)));
  });
  server.stderr?.removeAllListeners('data');
  server.stderr?.resume();
  const admin = `postgresql://qubot:${password}@127.0.0.1:${port}/postgres`;
  execFileSync(join(bin, 'psql'), [admin, '-qc', 'CREATE DATABASE qubot'], { stdio: 'ignore' });
  return {
    url: `postgresql://qubot:${password}@127.0.0.1:${port}/qubot`,
    process: server,
    async stop() {
      if (server.exitCode === null) {
        const exited = new Promise((r) => server.once('exit', r));
        server.kill('SIGINT'); // fast shutdown
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
