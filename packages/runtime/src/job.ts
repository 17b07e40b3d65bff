// Jobs: one-off child processes started from an application's job launcher (an admin-configured
// command template, never a shell line), e.g. the pre-deployment database migration or the
// post-deployment smoke test of docs/hooks.md. Output goes to a log file that viewers follow live;
// a job still running at its timeout is stopped (SIGTERM to its process group, SIGKILL 5 s later).
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { type JobLauncherValues, renderJobLauncher, validateArtifactRef, validateLabel } from './launcher.ts';
import { isOurProcess, processGroupOf, signal } from './proc.ts';

export interface JobSpec {
  /** The job's name as the launcher's `{job}` (a label: letters, digits, . _ + -). */
  job: string;
  version: string;
  artifact: string;
  environment: string;
  launcher: { command: string; cwd?: string };
  /** Environment variables on top of the inherited ones (PATH, HOME, …). */
  env?: Record<string, string>;
  timeoutMs: number;
  logPath: string;
  /** Base for a relative launcher `cwd`. */
  workspaceDir?: string;
}

export type JobOutcome = 'succeeded' | 'failed' | 'timed_out';
export interface JobResult {
  outcome: JobOutcome;
  exitCode: number | null;
  signal: string | null;
  message: string;
}
export interface RunningJob {
  pid: number;
  /** The first word of the command line, to recognise the process again (`isJobProcess`). */
  command: string;
  done: Promise<JobResult>;
  /** Stops the job (SIGTERM to its group, SIGKILL after 5 s); `done` then resolves `failed`. */
  kill(): void;
}

const INHERIT = ['PATH', 'HOME', 'LANG', 'LC_ALL', 'TZ', 'TMPDIR', 'USER'];
const KILL_AFTER_MS = 5_000;

/** Starts a job; rejects when the launcher or a value is invalid or the program cannot be spawned. */
export async function startJob(spec: JobSpec): Promise<RunningJob> {
  validateLabel('job', spec.job);
  validateLabel('version', spec.version);
  validateArtifactRef(spec.artifact);
  const values: JobLauncherValues = {
    job: spec.job,
    version: spec.version,
    artifact: spec.artifact,
    environment: spec.environment,
  };
  let { command, args } = renderJobLauncher(spec.launcher.command, values);
  if (command === 'node') command = process.execPath;
  const env: Record<string, string> = {};
  for (const name of INHERIT) {
    const v = process.env[name];
    if (v !== undefined) env[name] = v;
  }
  Object.assign(env, spec.env);
  const base = spec.workspaceDir ?? process.cwd();
  const cwd = spec.launcher.cwd
    ? isAbsolute(spec.launcher.cwd)
      ? spec.launcher.cwd
      : resolve(base, spec.launcher.cwd)
    : base;
  mkdirSync(dirname(spec.logPath), { recursive: true, mode: 0o700 });
  const fd = openSync(spec.logPath, 'a', 0o600);
  writeSync(fd, `[qubot] job ${spec.job} of ${spec.version} started (${new Date().toISOString()})\n`);
  // Own process group: a timeout (or a control plane cleaning up after a restart) stops the job and
  // whatever it started.
  const child = spawn(command, args, { cwd, env, detached: true, stdio: ['ignore', fd, fd] });
  const pid = await new Promise<number>((ok, fail) => {
    child.once('spawn', () => ok(child.pid as number));
    child.once('error', (err) => {
      closeSync(fd);
      fail(err);
    });
  });
  let timedOut = false;
  let killed = false;
  let killTimer: NodeJS.Timeout | null = null;
  const stop = () => {
    signal(-pid, 'SIGTERM');
    killTimer ??= setTimeout(() => signal(-pid, 'SIGKILL'), KILL_AFTER_MS);
  };
  const timer = setTimeout(() => {
    timedOut = true;
    stop();
  }, spec.timeoutMs);
  const done = new Promise<JobResult>((ok) => {
    child.once('exit', (code, sig) => {
      clearTimeout(timer);
      if (killTimer) clearTimeout(killTimer);
      const outcome: JobOutcome = timedOut ? 'timed_out' : code === 0 ? 'succeeded' : 'failed';
      const message = timedOut
        ? `did not finish within ${Math.round(spec.timeoutMs / 1000)}s (stopped)`
        : killed
          ? 'stopped'
          : code === 0
            ? 'exited 0'
            : code !== null
              ? `exited ${code}`
              : `killed by ${sig}`;
      try {
        writeSync(fd, `[qubot] job ${spec.job}: ${message}\n`);
      } finally {
        closeSync(fd);
      }
      ok({ outcome, exitCode: code, signal: sig, message });
    });
  });
  return {
    pid,
    command,
    done,
    kill() {
      killed = true;
      stop();
    },
  };
}

/** Whether `pid` still is the job started as `command` (a job leads its own process group). */
export function isJobProcess(pid: number | null | undefined, command: string): boolean {
  return !!pid && isOurProcess(pid, command) && processGroupOf(pid) === pid;
}

/** Stops a job left behind by another control-plane process (SIGKILL to its group). */
export function killJobGroup(pid: number): void {
  signal(-pid, 'SIGKILL');
}
