import type { OomInfo, ResourceLimits, RuntimeInfo } from '@qubot/api-contract';

const MiB = 1024 * 1024;

/** Bytes as MiB with one decimal where it matters ("64 MiB", "63.5 MiB"). */
export function formatMiB(bytes: number | null): string {
  if (bytes === null) return 'unknown';
  const mib = bytes / MiB;
  return `${Number.isInteger(mib) ? mib : mib.toFixed(1)} MiB`;
}

/** "256 MiB · 0.5 CPU", "unlimited". */
export function formatLimits(limits: ResourceLimits | undefined): string {
  if (!limits || (limits.memoryMb === null && limits.cpus === null)) return 'unlimited';
  return [
    limits.memoryMb === null ? 'memory unlimited' : `${limits.memoryMb} MiB`,
    limits.cpus === null ? 'CPU unlimited' : `${limits.cpus} CPU`,
  ].join(' · ');
}

/** "OOM-killed 2× — limit 64 MiB, peak 64 MiB", or null when it never was. */
export function formatOom(oom: OomInfo | null | undefined): string | null {
  if (!oom) return null;
  return `OOM-killed ${oom.kills}× — limit ${formatMiB(oom.limitBytes)}, peak ${formatMiB(oom.peakBytes)}`;
}

/** What the environment page says about enforcement, from GET /runtime. */
export function enforcementNote(info: RuntimeInfo | undefined): { ok: boolean; text: string } | null {
  if (!info) return null;
  const c = info.capabilities;
  return c.cgroups
    ? { ok: true, text: `Enforced with cgroup v${c.cgroupVersion} on the ${info.driver} runtime.` }
    : {
        ok: false,
        text: `Not enforced here: ${c.cgroupsUnavailable ?? 'the runtime cannot enforce limits'}. Instances only receive them as QUBOT_MEMORY_LIMIT_MB / QUBOT_CPU_LIMIT.`,
      };
}
