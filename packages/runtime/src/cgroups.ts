// Per-instance CPU and memory limits with Linux control groups. Each instance gets its own group
// under a `qubot` parent — v2 (`/sys/fs/cgroup/qubot/<id>`) where the unified hierarchy is mounted
// with the memory and cpu controllers, otherwise the v1 `memory` and `cpu` hierarchies
// (`/sys/fs/cgroup/memory/qubot/<id>`, `/sys/fs/cgroup/cpu/qubot/<id>`). The instance process puts
// itself into the group before it runs a single instruction of the application (see
// `cgroupWrap`), and the group is removed when the instance stops. Creating groups needs write
// access to the hierarchy (root, or a delegated subtree): `detectCgroups` says whether it is there
// and, when it is not, why — the driver declares it as a capability instead of pretending.
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export type CgroupVersion = 1 | 2;

export type CgroupSupport =
  | { writable: true; version: CgroupVersion; root: string; parent: string }
  | { writable: false; version: CgroupVersion | null; reason: string };

export interface CgroupLimits {
  /** Memory limit in MiB (no swap beyond it). */
  memoryMb?: number | undefined;
  /** CPU limit in CPUs, e.g. 0.2 (a CFS quota of 20 ms per 100 ms). */
  cpus?: number | undefined;
}

/** Where one instance's group lives; stored in the supervisor's spec. */
export interface CgroupPlacement {
  version: CgroupVersion;
  /** The group directory per controller (v2: the same one twice). */
  memoryDir: string;
  cpuDir: string;
  /** The `cgroup.procs` files the instance process writes its pid to. */
  procs: string[];
}

export interface MemoryFigures {
  /** The limit in force, null when unlimited. */
  limitBytes: number | null;
  /** Highest usage seen (v2 `memory.peak`, v1 `memory.max_usage_in_bytes`); null where not kept. */
  peakBytes: number | null;
  /** Processes of the group killed by the OOM killer (v2 `memory.events`, v1 `memory.oom_control`). */
  oomKills: number;
}

export interface CpuFigures {
  /** Periods in which the group ran out of quota. */
  throttledPeriods: number;
  /** Time the group spent throttled, µs. */
  throttledUsec: number;
}

const PERIOD_US = 100_000;
const read = (path: string) => readFileSync(path, 'utf8');
const keyed = (text: string): Record<string, number> =>
  Object.fromEntries(
    text
      .split('\n')
      .map((l) => l.trim().split(/\s+/))
      .filter((p) => p.length === 2)
      .map(([k, v]) => [k as string, Number(v)]),
  );

function probeWritable(dir: string): string | null {
  try {
    mkdirSync(dir, { recursive: true });
    const probe = join(dir, `probe-${process.pid}`);
    mkdirSync(probe);
    rmdirSync(probe);
    return null;
  } catch (err) {
    return `cannot create control groups under ${dir} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); run the worker as root or delegate that subtree to its user`;
  }
}

/** What this machine allows; `root` is `/sys/fs/cgroup` except in tests. */
export function detectCgroups(root = '/sys/fs/cgroup', parent = 'qubot'): CgroupSupport {
  if (process.platform !== 'linux') return { writable: false, version: null, reason: 'not Linux' };
  const controllers = join(root, 'cgroup.controllers');
  if (existsSync(controllers)) {
    const have = read(controllers).split(/\s+/);
    if (!have.includes('memory') || !have.includes('cpu')) {
      return {
        writable: false,
        version: 2,
        reason: 'the cgroup v2 hierarchy lacks the memory or cpu controller',
      };
    }
    const dir = join(root, parent);
    const why = probeWritable(dir);
    if (why) return { writable: false, version: 2, reason: why };
    try {
      // Children of the parent get both controllers (the root must hand them down first).
      writeFileSync(join(root, 'cgroup.subtree_control'), '+memory +cpu');
      writeFileSync(join(dir, 'cgroup.subtree_control'), '+memory +cpu');
    } catch (err) {
      return {
        writable: false,
        version: 2,
        reason: `cannot enable the memory and cpu controllers under ${dir} (${(err as Error).message})`,
      };
    }
    return { writable: true, version: 2, root, parent };
  }
  if (
    existsSync(join(root, 'memory', 'memory.limit_in_bytes')) &&
    existsSync(join(root, 'cpu', 'cpu.cfs_quota_us'))
  ) {
    const why = probeWritable(join(root, 'memory', parent)) ?? probeWritable(join(root, 'cpu', parent));
    if (why) return { writable: false, version: 1, reason: why };
    return { writable: true, version: 1, root, parent };
  }
  return { writable: false, version: null, reason: `no cgroup v2 or v1 memory/cpu hierarchy under ${root}` };
}

/** The group of instance `id` (whether it exists or not). */
export function placementFor(
  support: Extract<CgroupSupport, { writable: true }>,
  id: string,
): CgroupPlacement {
  if (support.version === 2) {
    const dir = join(support.root, support.parent, id);
    return { version: 2, memoryDir: dir, cpuDir: dir, procs: [join(dir, 'cgroup.procs')] };
  }
  const memoryDir = join(support.root, 'memory', support.parent, id);
  const cpuDir = join(support.root, 'cpu', support.parent, id);
  return {
    version: 1,
    memoryDir,
    cpuDir,
    procs: [join(memoryDir, 'cgroup.procs'), join(cpuDir, 'cgroup.procs')],
  };
}

/** Creates the group (idempotent) and writes the limits; absent limits mean unlimited. */
export function applyLimits(p: CgroupPlacement, limits: CgroupLimits): void {
  mkdirSync(p.memoryDir, { recursive: true });
  mkdirSync(p.cpuDir, { recursive: true });
  const bytes = limits.memoryMb ? String(Math.round(limits.memoryMb * 1024 * 1024)) : null;
  const quota = limits.cpus ? Math.max(1_000, Math.round(limits.cpus * PERIOD_US)) : null;
  if (p.version === 2) {
    writeFileSync(join(p.memoryDir, 'memory.max'), bytes ?? 'max');
    // The limit is the limit: no swapping past it.
    if (existsSync(join(p.memoryDir, 'memory.swap.max')))
      writeFileSync(join(p.memoryDir, 'memory.swap.max'), '0');
    writeFileSync(join(p.cpuDir, 'cpu.max'), `${quota ?? 'max'} ${PERIOD_US}`);
    return;
  }
  const memsw = join(p.memoryDir, 'memory.memsw.limit_in_bytes');
  const hasMemsw = existsSync(memsw);
  // memsw must stay ≥ the memory limit: lift it first, then set the memory limit, then memsw.
  if (hasMemsw) writeFileSync(memsw, '-1');
  writeFileSync(join(p.memoryDir, 'memory.limit_in_bytes'), bytes ?? '-1');
  if (hasMemsw && bytes) writeFileSync(memsw, bytes);
  writeFileSync(join(p.cpuDir, 'cpu.cfs_period_us'), String(PERIOD_US));
  writeFileSync(join(p.cpuDir, 'cpu.cfs_quota_us'), String(quota ?? -1));
}

/** Resets the peak before a (re)start, so it describes that run (v1 only; v2's is not resettable). */
export function resetPeak(p: CgroupPlacement): void {
  if (p.version !== 1) return;
  try {
    writeFileSync(join(p.memoryDir, 'memory.max_usage_in_bytes'), '0');
  } catch {
    // best effort
  }
}

export function readMemory(p: CgroupPlacement): MemoryFigures | null {
  try {
    if (p.version === 2) {
      const max = read(join(p.memoryDir, 'memory.max')).trim();
      let peak: number | null = null;
      try {
        peak = Number(read(join(p.memoryDir, 'memory.peak')).trim());
      } catch {
        // kernels before 5.19 keep no peak
      }
      const events = keyed(read(join(p.memoryDir, 'memory.events')));
      return {
        limitBytes: max === 'max' ? null : Number(max),
        peakBytes: peak,
        oomKills: events.oom_kill ?? 0,
      };
    }
    const limit = Number(read(join(p.memoryDir, 'memory.limit_in_bytes')).trim());
    const oom = keyed(read(join(p.memoryDir, 'memory.oom_control')));
    return {
      // v1 says "unlimited" with a huge page-rounded number.
      limitBytes: limit >= 2 ** 62 ? null : limit,
      peakBytes: Number(read(join(p.memoryDir, 'memory.max_usage_in_bytes')).trim()),
      oomKills: oom.oom_kill ?? 0,
    };
  } catch {
    return null;
  }
}

export function readCpu(p: CgroupPlacement): CpuFigures | null {
  try {
    const stat = keyed(read(join(p.cpuDir, 'cpu.stat')));
    return p.version === 2
      ? { throttledPeriods: stat.nr_throttled ?? 0, throttledUsec: stat.throttled_usec ?? 0 }
      : {
          throttledPeriods: stat.nr_throttled ?? 0,
          throttledUsec: Math.round((stat.throttled_time ?? 0) / 1_000),
        };
  } catch {
    return null;
  }
}

/** Removes the group once its processes are gone (retries briefly: the kernel frees it lazily). */
export async function removeGroup(p: CgroupPlacement): Promise<void> {
  for (const dir of new Set([p.memoryDir, p.cpuDir])) {
    for (let attempt = 0; attempt < 50; attempt++) {
      try {
        rmdirSync(dir);
        break;
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') break;
        if (code !== 'EBUSY' || attempt === 49) throw err;
        await new Promise((r) => setTimeout(r, 20));
      }
    }
  }
}

/**
 * `command args…` run so that the process enters its group first: a shell writes its own pid to
 * each `cgroup.procs`, then `exec`s the command (same pid, no fork), so not one byte is allocated
 * outside the limits. The paths and argv are positional parameters, never parsed by the shell.
 */
export function cgroupWrap(
  p: CgroupPlacement,
  command: string,
  args: string[],
): { command: string; args: string[] } {
  const script =
    'while [ "$1" != "--" ]; do echo $$ > "$1" || { echo "qubot: cannot enter control group $1" >&2; exit 125; }; shift; done; shift; exec "$@"';
  return { command: '/bin/sh', args: ['-c', script, 'qubot-cgroup', ...p.procs, '--', command, ...args] };
}
