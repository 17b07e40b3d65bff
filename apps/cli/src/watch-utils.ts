import type { Deployment, Environment } from '@qubot/api-contract';
import { formatTraffic, PLAIN, type Style, statusColor, stepLine } from './format-utils.ts';

/** What a change to a followed deployment means to a person: one line per step or status change. */
export function deploymentChanges(prev: Deployment | null, next: Deployment, style: Style = PLAIN): string[] {
  const lines: string[] = [];
  const waiting = (d: Deployment) => (d.waitingFor ? ` (waiting for ${d.waitingFor})` : '');
  if (!prev) {
    lines.push(
      `deployment ${next.id}: ${next.kind} ${next.release.version} to ${next.environment} (${next.strategy}) — ${statusColor(next.status, style)}${waiting(next)}`,
    );
    for (const step of next.steps) if (step.status !== 'pending') lines.push(stepLine(step, style));
  } else {
    const before = new Map(prev.steps.map((s) => [s.position, s]));
    for (const step of next.steps) {
      const old = before.get(step.position);
      if (!old && step.status === 'pending') continue;
      if (!old || old.status !== step.status || old.message !== step.message)
        lines.push(stepLine(step, style));
    }
    if (prev.status !== next.status || prev.waitingFor !== next.waitingFor)
      lines.push(
        `status: ${statusColor(prev.status, style)} → ${statusColor(next.status, style)}${waiting(next)}`,
      );
  }
  if (next.error && next.error !== prev?.error) lines.push(`error: ${style.red(next.error)}`);
  return lines;
}

/** Environment-level changes worth a line while watching: live version, traffic, a deployment starting. */
export function environmentChanges(prev: Environment | null, next: Environment): string[] {
  if (!prev) return [];
  const lines: string[] = [];
  if (prev.live?.version !== next.live?.version)
    lines.push(`${next.name}: live ${prev.live?.version ?? '-'} → ${next.live?.version ?? '-'}`);
  const traffic = formatTraffic(next.traffic);
  if (formatTraffic(prev.traffic) !== traffic || prev.activeColor !== next.activeColor)
    lines.push(`${next.name}: traffic ${traffic}${next.activeColor ? ` (active ${next.activeColor})` : ''}`);
  return lines;
}

/** A deployment event's payload is the full deployment view (docs/events.md). */
export function deploymentOf(event: string, data: unknown): Deployment | null {
  if (!event.startsWith('deployment.')) return null;
  const d = data as Partial<Deployment> | null;
  return d && typeof d.id === 'string' && typeof d.status === 'string' && Array.isArray(d.steps)
    ? (d as Deployment)
    : null;
}

export function environmentOf(event: string, data: unknown): Environment | null {
  if (!event.startsWith('environment.')) return null;
  const e = data as Partial<Environment> | null;
  return e && typeof e.name === 'string' && Array.isArray(e.traffic) ? (e as Environment) : null;
}
