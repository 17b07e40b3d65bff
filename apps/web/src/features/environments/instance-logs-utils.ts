import type { InstanceView } from '@qubot/api-contract';

/** How long an instance has been up, in the largest two units ("3 h 12 min", "45 s"). */
export function formatUptime(startedAt: string, now: number, status: string): string {
  if (status !== 'running' && status !== 'unhealthy') return '—';
  const s = Math.max(0, Math.floor((now - Date.parse(startedAt)) / 1000));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${s % 60} s`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h} h ${m % 60} min`;
  return `${Math.floor(h / 24)} d ${h % 24} h`;
}

/** Instances in a readable order: by pool, then newest first. */
export function sortInstances(instances: readonly InstanceView[]): InstanceView[] {
  return [...instances].sort(
    (a, b) => a.pool.localeCompare(b.pool) || Date.parse(b.startedAt) - Date.parse(a.startedAt),
  );
}

const RANK: Record<string, number> = { viewer: 0, deployer: 1, 'release-manager': 2, admin: 3 };
/** Mirrors the API's `logs.read`: deployer and up; release-manager and up on a protected environment. */
export function canReadLogs(role: string | undefined, isProtected: boolean): boolean {
  const rank = role ? (RANK[role] ?? -1) : -1;
  return rank >= (isProtected ? 2 : 1);
}
