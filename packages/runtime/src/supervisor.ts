import { type ChildProcess, spawn } from 'node:child_process';
import {
  closeSync,
  fchmodSync,
  openSync,
  readFileSync,
  renameSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { hostname } from 'node:os';
import { backoffDelay } from '@qubot/core';
import { type CgroupPlacement, cgroupWrap, readMemory, resetPeak } from './cgroups.ts';
import { isAlive } from './proc.ts';
import type { ExitReason, OomRecord, SupervisorState } from './types.ts';

const HOST = hostname();

/** Written by the driver next to the log; read by the supervisor at start. */
export interface SupervisorSpec {
  id: string;
  command: string;
  args: string[];
  cwd: string;
  env: Record<string, string>;
  logPath: string;
  statusPath: string;
  /** Grace period between SIGTERM and SIGKILL for the instance. */
  stopTimeoutMs: number;
  backoff: {
    initialMs: number;
    maxMs: number /** a run this long resets the back-off */;
    resetAfterMs: number;
  };
  /** Give up after this many restarts; null = never. */
  maxRestarts: number | null;
  /** The log is rotated to `<log>.1` when bigger than this at a (re)start. */
  maxLogBytes: number;
  /** The instance's control group (limits enforced); absent where cgroups are not writable. */
  cgroup?: CgroupPlacement;
}

export interface SupervisorStatus {
  id: string;
  state: SupervisorState;
  supervisorPid: number;
  pid: number | null;
  restarts: number;
  lastExitCode: number | null;
  lastExitSignal: string | null;
  /** Why the instance last exited; `oom`: killed by its control group's memory limit. */
  lastExitReason?: ExitReason | null;
  /** OOM kills of this instance so far, and the figures of the last one. */
  oomKills?: number;
  lastOom?: OomRecord | null;
  startedAt: string;
  updatedAt: string;
}

export function readStatusFile(path: string): SupervisorStatus | null {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as SupervisorStatus;
  } catch {
    return null;
  }
}

/** Atomic (rename), so a reader never sees half a file. */
export function writeStatusFile(path: string, status: SupervisorStatus): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(status)}\n`, { mode: 0o600 });
  renameSync(tmp, path);
}

/** The process being supervised: our child, or an instance adopted from a supervisor that died. */
interface Supervised {
  pid: number | undefined;
  kill(sig: NodeJS.Signals): void;
}

export interface SupervisorOptions {
  /**
   * An instance left running by a supervisor that was killed: watch it instead of starting a new
   * one (it keeps serving, no request is lost), and start a new one only once it exits.
   */
  adoptPid?: number;
}

/**
 * Runs one instance: spawns it with stdout/stderr appended to its log file, restarts it with
 * exponential back-off when it exits on its own, and on SIGTERM/SIGINT stops it gracefully
 * (SIGTERM, then SIGKILL after `stopTimeoutMs`) and exits.
 */
export function runSupervisor(spec: SupervisorSpec, options: SupervisorOptions = {}): void {
  const previous = options.adoptPid ? readStatusFile(spec.statusPath) : null;
  const status: SupervisorStatus = {
    id: spec.id,
    state: 'starting',
    supervisorPid: process.pid,
    pid: null,
    restarts: previous?.restarts ?? 0,
    lastExitCode: null,
    lastExitSignal: null,
    lastExitReason: previous?.lastExitReason ?? null,
    oomKills: previous?.oomKills ?? 0,
    lastOom: previous?.lastOom ?? null,
    startedAt: new Date().toISOString(),
    updatedAt: new Date().toISOString(),
  };
  /** The group's OOM counter when the current run began: a higher one at its exit means OOM. */
  let oomBaseline = spec.cgroup ? (readMemory(spec.cgroup)?.oomKills ?? 0) : 0;
  const save = (patch: Partial<SupervisorStatus>) => {
    Object.assign(status, patch, { updatedAt: new Date().toISOString() });
    try {
      writeStatusFile(spec.statusPath, status);
    } catch {
      // The data directory vanished; keep supervising regardless.
    }
  };

  let logFd = -1;
  const openLog = () => {
    if (logFd >= 0) closeSync(logFd);
    try {
      if (statSync(spec.logPath).size > spec.maxLogBytes) renameSync(spec.logPath, `${spec.logPath}.1`);
    } catch {
      // no log yet
    }
    // Owner-only, also for a log file an older version created with the umask's mode.
    logFd = openSync(spec.logPath, 'a', 0o600);
    try {
      fchmodSync(logFd, 0o600);
    } catch {
      // not ours to change (another owner): keep logging
    }
  };
  // One JSON line in the control plane's shape (docs/monitoring.md "Logs"), between the instance's
  // own output lines.
  const note = (msg: string) => {
    try {
      writeSync(
        logFd,
        `${JSON.stringify({ level: 30, time: Date.now(), pid: process.pid, hostname: HOST, component: 'supervisor', instanceId: spec.id, msg })}\n`,
      );
    } catch {
      // logging must never stop supervision
    }
  };

  let child: Supervised | ChildProcess | null = null;
  let stopping = false;
  let restartTimer: NodeJS.Timeout | null = null;
  let consecutiveFailures = 0;

  const launch = () => {
    restartTimer = null;
    openLog();
    const startedAt = Date.now();
    let { command, args } = spec;
    if (spec.cgroup) {
      resetPeak(spec.cgroup);
      oomBaseline = readMemory(spec.cgroup)?.oomKills ?? oomBaseline;
      ({ command, args } = cgroupWrap(spec.cgroup, command, args));
    }
    const proc = spawn(command, args, {
      cwd: spec.cwd,
      env: spec.env,
      stdio: ['ignore', logFd, logFd],
    });
    child = proc;
    proc.once('spawn', () => {
      note(
        `started pid ${proc.pid}: ${[spec.command, ...spec.args].map((a) => JSON.stringify(a)).join(' ')}`,
      );
      save({ state: 'running', pid: proc.pid ?? null });
    });
    // A spawn failure (e.g. ENOENT) emits 'error' and maybe 'exit': handle whichever comes first, once.
    let handled = false;
    const exitOnce = (code: number | null, sig: NodeJS.Signals | null) => {
      if (handled) return;
      handled = true;
      onExit(code, sig, startedAt);
    };
    proc.once('error', (err) => {
      note(`failed to start: ${err.message}`);
      exitOnce(null, null);
    });
    proc.once('exit', exitOnce);
  };

  /** No exit event for a process we did not spawn: poll until it is gone. */
  const adopt = (pid: number) => {
    openLog();
    const startedAt = Date.now();
    child = {
      pid,
      kill: (sig: NodeJS.Signals) => {
        try {
          process.kill(pid, sig);
        } catch {
          // already gone
        }
      },
    };
    note(`adopted pid ${pid}, left running by a supervisor that is gone`);
    save({ state: 'running', pid });
    const watch = setInterval(() => {
      if (isAlive(pid)) return;
      clearInterval(watch);
      onExit(null, null, startedAt);
    }, 100);
  };

  let exited = false;
  /** Whether the run that just ended was killed by the memory limit, with the figures. */
  const exitReason = (code: number | null, sig: NodeJS.Signals | null): Partial<SupervisorStatus> => {
    const mem = spec.cgroup ? readMemory(spec.cgroup) : null;
    if (mem && mem.oomKills > oomBaseline) {
      oomBaseline = mem.oomKills;
      const lastOom: OomRecord = {
        at: new Date().toISOString(),
        limitBytes: mem.limitBytes,
        peakBytes: mem.peakBytes,
      };
      note(
        `instance killed by its memory limit (OOM): limit ${mem.limitBytes ?? 'none'} bytes, peak ${mem.peakBytes ?? 'unknown'} bytes`,
      );
      return { lastExitReason: 'oom', oomKills: (status.oomKills ?? 0) + 1, lastOom };
    }
    return { lastExitReason: sig ? 'signal' : code === null ? null : 'exit' };
  };

  const onExit = (code: number | null, sig: NodeJS.Signals | null, startedAt: number) => {
    child = null;
    note(`instance exited (code ${code}, signal ${sig})`);
    const reason = exitReason(code, sig);
    if (stopping) {
      save({ state: 'stopped', pid: null, lastExitCode: code, lastExitSignal: sig, ...reason });
      finish();
      return;
    }
    consecutiveFailures = Date.now() - startedAt >= spec.backoff.resetAfterMs ? 0 : consecutiveFailures + 1;
    if (spec.maxRestarts !== null && status.restarts >= spec.maxRestarts) {
      save({ state: 'failed', pid: null, lastExitCode: code, lastExitSignal: sig, ...reason });
      note(`giving up after ${status.restarts} restarts`);
      finish(1);
      return;
    }
    const delay = backoffDelay(Math.max(0, consecutiveFailures - 1), {
      baseMs: spec.backoff.initialMs,
      maxMs: spec.backoff.maxMs,
    });
    save({
      state: 'backoff',
      pid: null,
      lastExitCode: code,
      lastExitSignal: sig,
      ...reason,
      restarts: status.restarts + 1,
    });
    note(`restarting in ${delay} ms (restart #${status.restarts})`);
    restartTimer = setTimeout(launch, delay);
  };

  const finish = (code = 0) => {
    if (exited) return;
    exited = true;
    if (logFd >= 0) closeSync(logFd);
    process.exit(code);
  };

  const stop = (sig: string) => {
    if (stopping) return;
    stopping = true;
    note(`received ${sig}, stopping instance`);
    save({ state: 'stopping' });
    if (restartTimer) {
      clearTimeout(restartTimer);
      save({ state: 'stopped', pid: null });
      finish();
      return;
    }
    const proc = child;
    if (!proc) {
      save({ state: 'stopped', pid: null });
      finish();
      return;
    }
    proc.kill('SIGTERM');
    setTimeout(() => {
      note(`instance did not stop within ${spec.stopTimeoutMs} ms, sending SIGKILL`);
      proc.kill('SIGKILL');
    }, spec.stopTimeoutMs).unref();
  };

  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  // The control plane may close its end of anything we inherited; never die of EPIPE.
  process.on('SIGPIPE', () => {});
  process.on('SIGHUP', () => {});
  save({});
  if (options.adoptPid && isAlive(options.adoptPid)) adopt(options.adoptPid);
  else launch();
}
