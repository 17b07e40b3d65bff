import type { Host } from '@qubot/api-contract';

export type HostActionName = 'cordon' | 'uncordon' | 'drain' | 'revoke';

/** The actions a host offers in its state (a revoked host offers none). */
export function hostActions(h: Pick<Host, 'state' | 'scheduling'>): HostActionName[] {
  if (h.state === 'revoked') return [];
  const actions: HostActionName[] = [];
  if (h.scheduling !== 'schedulable') actions.push('uncordon');
  if (h.scheduling === 'schedulable') actions.push('cordon');
  if (h.scheduling !== 'draining') actions.push('drain');
  actions.push('revoke');
  return actions;
}

/** Actions that move or cut off work ask for a confirmation first. */
export const needsConfirmation = (a: HostActionName) => a === 'drain' || a === 'revoke';

const GIB = 1024 ** 3;
/** `1.2 / 7.8 GiB`, or an em dash before the first heartbeat. */
export function memoryText(used: number | null, total: number | null): string {
  if (used === null || total === null) return '—';
  return `${(used / GIB).toFixed(1)} / ${(total / GIB).toFixed(1)} GiB`;
}

export function cpuText(cpu: number | null): string {
  return cpu === null ? '—' : `${Math.round(cpu)} %`;
}

/** Token names: what the server accepts (1–100 characters, not blank). */
export function tokenNameProblem(name: string): string | null {
  const n = name.trim();
  if (n.length === 0) return 'Give the token a name (e.g. the host it is for).';
  if (n.length > 100) return 'At most 100 characters.';
  return null;
}

/** Minutes until expiry: 1–10080; null when not a whole number in range. */
export function parseExpiryMinutes(text: string): number | null {
  if (!/^\d+$/.test(text.trim())) return null;
  const n = Number(text.trim());
  return n >= 1 && n <= 10_080 ? n : null;
}

/** The command a person runs on the new host with the token just created. */
export function agentCommand(server: string, secret: string): string {
  return `qubot agent --server ${server} --enrol ${secret} --address <this host's IP> --data-dir /var/lib/qubot-agent`;
}
