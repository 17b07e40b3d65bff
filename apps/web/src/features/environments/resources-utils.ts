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

/** The resources form's text fields: '' means unlimited. */
export interface ResourcesDraft {
  memoryMb: string;
  cpus: string;
}
export type ResourcesField = keyof ResourcesDraft;

export const resourcesDraft = (limits: ResourceLimits | undefined): ResourcesDraft => ({
  memoryMb: limits?.memoryMb == null ? '' : String(limits.memoryMb),
  cpus: limits?.cpus == null ? '' : String(limits.cpus),
});

/**
 * The PUT …/resources limits from the form, or the field that is not a number. Ranges are the
 * server's to judge (it names the field, shown under it): one rule, one place.
 */
export function resourcesBody(
  d: ResourcesDraft,
): { ok: true; limits: ResourceLimits } | { ok: false; field: ResourcesField; message: string } {
  const parse = (text: string) => (text.trim() === '' ? null : Number(text.trim()));
  const memoryMb = parse(d.memoryMb);
  if (memoryMb !== null && !Number.isInteger(memoryMb))
    return {
      ok: false,
      field: 'memoryMb',
      message: 'Memory must be a whole number of MiB, or empty for unlimited',
    };
  const cpus = parse(d.cpus);
  if (cpus !== null && !Number.isFinite(cpus))
    return {
      ok: false,
      field: 'cpus',
      message: 'CPUs must be a number (0.5 is half a CPU), or empty for unlimited',
    };
  return { ok: true, limits: { memoryMb, cpus } };
}

/** The form field a server validation error is about (`details.field` is `body.memoryMb`…). */
export function resourcesFieldOf(serverField: string | null): ResourcesField | 'strategy' | 'reason' | null {
  const name = serverField?.replace(/^body\./, '').split('.')[0];
  return name === 'memoryMb' || name === 'cpus' || name === 'strategy' || name === 'reason' ? name : null;
}
