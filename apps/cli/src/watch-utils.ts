import type { Deployment, Environment, ServerMessage } from '@qubot/api-contract';
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

export type ParsedMessage =
  | { kind: 'event'; seq: number; event: string; data: unknown }
  | { kind: 'subscribed'; lastSeq: number }
  | { kind: 'heartbeat'; seq: number }
  | { kind: 'error'; code: string; message: string; field?: string }
  | { kind: 'other' };

/** Server messages of docs/events.md; anything unrecognised is ignored rather than fatal. */
export function parseServerMessage(text: string): ParsedMessage {
  let msg: Partial<ServerMessage> & Record<string, unknown>;
  try {
    msg = JSON.parse(text);
  } catch {
    return { kind: 'other' };
  }
  if (typeof msg !== 'object' || msg === null) return { kind: 'other' };
  if (msg.type === 'event' && typeof msg.seq === 'number' && typeof msg.event === 'string')
    return { kind: 'event', seq: msg.seq, event: msg.event, data: msg.data };
  if (msg.type === 'subscribed' && typeof msg.lastSeq === 'number')
    return { kind: 'subscribed', lastSeq: msg.lastSeq };
  if (msg.type === 'heartbeat' && typeof msg.seq === 'number') return { kind: 'heartbeat', seq: msg.seq };
  if (msg.type === 'error')
    return {
      kind: 'error',
      code: typeof msg.code === 'string' ? msg.code : 'error',
      message: typeof msg.message === 'string' ? msg.message : 'event stream error',
      ...(typeof msg.field === 'string' ? { field: msg.field } : {}),
    };
  return { kind: 'other' };
}

/** http://host:8080/base → ws://host:8080/base/api/v1/events */
export function eventsUrl(server: string): string {
  const url = new URL(`${server}/api/v1/events`);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  return url.toString();
}

/** Reconnect delay: 0.5 s, 1 s, 2 s … capped at 10 s. */
export function backoff(attempt: number): number {
  return Math.min(10_000, 500 * 2 ** Math.max(0, attempt));
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
