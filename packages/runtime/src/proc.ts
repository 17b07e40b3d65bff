import { spawn } from 'node:child_process';
import { closeSync, fchmodSync, openSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/**
 * Directory this module runs from: `src/` under tsx (development, tests), `dist/` once built
 * (`pnpm build`, production). The supervisor and router entry points live here.
 */
export const RUNTIME_SRC_DIR = dirname(fileURLToPath(import.meta.url));

/** This package runs as built JavaScript (dist/), not as TypeScript through tsx. */
export const RUNS_FROM_DIST = import.meta.url.endsWith('.js');

/**
 * `node` arguments that start one of this package's entry points (`supervisor-main`,
 * `router/router-main`) in a child process the way this process runs: from dist/ with plain node
 * (workspace packages resolved to their dist/ by the `qubot-dist` export condition, docs/kubernetes.md),
 * or the TypeScript source through the tsx loader in development and tests.
 */
export function entryArgs(name: string): string[] {
  return RUNS_FROM_DIST
    ? ['--conditions=qubot-dist', join(RUNTIME_SRC_DIR, `${name}.js`)]
    : ['--import', tsxLoader(), join(RUNTIME_SRC_DIR, `${name}.ts`)];
}

let tsxUrl: string | undefined;
/**
 * The tsx loader as an absolute file URL, for `node --import <url>`: child processes may run with
 * any working directory, where a bare `tsx` would not resolve.
 */
export function tsxLoader(): string {
  tsxUrl ??= pathToFileURL(createRequire(join(RUNTIME_SRC_DIR, 'index.ts')).resolve('tsx')).href;
  return tsxUrl;
}

export function isAlive(pid: number | null | undefined): boolean {
  if (!pid || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (err) {
    // EPERM: it exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  // A zombie (exited, not yet reaped by whoever adopted it) still accepts signal 0.
  return processState(pid) !== 'Z';
}

/** Single-letter state from /proc/<pid>/stat (R, S, Z, …), or null where /proc is unavailable. */
export function processState(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0] ?? null;
  } catch {
    return null;
  }
}

/** Best-effort command line of a process (Linux /proc), used to guard against PID reuse. */
export function commandLineOf(pid: number): string | null {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
  } catch {
    return null;
  }
}

/** True when `pid` is alive and, where /proc exists, its command line contains `marker`. */
export function isOurProcess(pid: number | null | undefined, marker: string): boolean {
  if (!pid || !isAlive(pid)) return false;
  const cmd = commandLineOf(pid);
  // A zombie has an empty cmdline; treat it as dead.
  if (cmd === '') return false;
  return cmd === null || cmd.includes(marker);
}

/**
 * `pid` no longer runs the program `marker` names: gone, a zombie, or the pid taken by another
 * program. One in the middle of exiting is not gone yet: its memory is released (an empty command
 * line, which `isOurProcess` takes as dead) before its files are closed — its listening sockets
 * with them — and before it becomes a zombie. What a stop waits for before the port is free.
 */
export function goneFrom(pid: number, marker: string): boolean {
  if (!isAlive(pid)) return true;
  const cmd = commandLineOf(pid);
  return cmd !== null && cmd !== '' && !cmd.includes(marker);
}

/** Process group id from /proc/<pid>/stat (Linux), or null. */
export function processGroupOf(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name: state, ppid, pgrp, …
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const pgrp = Number(fields[2]);
    return Number.isInteger(pgrp) ? pgrp : null;
  } catch {
    return null;
  }
}

export function signal(pid: number, sig: NodeJS.Signals): boolean {
  try {
    process.kill(pid, sig);
    return true;
  } catch {
    return false;
  }
}

/** Polls until the process is gone (we are not its parent, so there is no exit event to await). */
export async function waitForExit(
  pid: number,
  timeoutMs: number,
  isGone = () => !isAlive(pid),
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  let delay = 10;
  while (Date.now() < deadline) {
    if (isGone()) return true;
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 100);
  }
  return isGone();
}

const recentlyAllocated = new Map<number, number>();

/**
 * A free TCP port on `host`, found by binding port 0. Ports handed out in the last minute are not
 * handed out again, so concurrent starts do not collide before their processes bind.
 */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  const now = Date.now();
  for (const [port, at] of recentlyAllocated) if (now - at > 60_000) recentlyAllocated.delete(port);
  for (let attempt = 0; attempt < 20; attempt++) {
    const port = await new Promise<number>((resolve, reject) => {
      const srv = createServer();
      srv.unref();
      srv.once('error', reject);
      srv.listen(0, host, () => {
        const addr = srv.address();
        const p = typeof addr === 'object' && addr ? addr.port : 0;
        srv.close(() => resolve(p));
      });
    });
    if (!recentlyAllocated.has(port)) {
      recentlyAllocated.set(port, now);
      return port;
    }
  }
  throw new Error('could not find a free port');
}

/** The last `lines` lines of a text file, reading at most `maxBytes` from its end. */
export async function tailFile(path: string, lines: number, maxBytes = 256 * 1024): Promise<string[]> {
  const { open } = await import('node:fs/promises');
  let fh: Awaited<ReturnType<typeof open>>;
  try {
    fh = await open(path, 'r');
  } catch {
    return [];
  }
  try {
    const { size } = await fh.stat();
    const length = Math.min(size, maxBytes);
    const buf = Buffer.alloc(length);
    await fh.read(buf, 0, length, size - length);
    const text = buf.toString('utf8');
    const all = text.split('\n');
    if (all.at(-1) === '') all.pop();
    // The first line may be cut when we did not read from the start of the file.
    if (length < size) all.shift();
    return all.slice(-lines);
  } finally {
    await fh.close();
  }
}

/**
 * Spawns `command` in its own session (it outlives the caller and its terminal), its stdout and
 * stderr appended to `logFile` (mode 0600), and resolves once it runs. `exited()` gives the reason
 * once it has ended, for the caller's start-up wait.
 */
export async function spawnDetached(
  name: string,
  command: string,
  args: string[],
  options: { cwd: string; env: NodeJS.ProcessEnv; logFile: string },
): Promise<{ pid: number; exited: () => string | null }> {
  const fd = openSync(options.logFile, 'a', 0o600);
  fchmodSync(fd, 0o600);
  let child: ReturnType<typeof spawn>;
  try {
    child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env,
      detached: true,
      stdio: ['ignore', fd, fd],
    });
  } finally {
    closeSync(fd);
  }
  const pid = await new Promise<number>((ok, fail) => {
    child.once('spawn', () => ok(child.pid as number));
    child.once('error', fail);
  });
  let exited: string | null = null;
  child.once('exit', (code, sig) => {
    exited = `${name} exited early (code ${code}, signal ${sig})`;
  });
  child.unref();
  return { pid, exited: () => exited };
}
