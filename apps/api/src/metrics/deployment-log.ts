import type { Deployment, DeploymentLogEntry } from '@qubot/api-contract';

/** A stored event of one deployment, as read from the events table. */
export interface StoredDeploymentEvent {
  seq: number;
  type: string;
  at: string;
  payload: unknown;
}

type View = Pick<
  Deployment,
  'status' | 'waitingFor' | 'steps' | 'release' | 'strategy' | 'environment' | 'actor' | 'reason' | 'error'
> &
  Partial<Pick<Deployment, 'traffic'>>;

const FINAL: Record<string, { level: DeploymentLogEntry['level']; text: string }> = {
  succeeded: { level: 'info', text: 'Deployment succeeded' },
  failed: { level: 'error', text: 'Deployment failed' },
  rolled_back: { level: 'error', text: 'Deployment rolled back' },
  aborted: { level: 'warn', text: 'Deployment aborted' },
};
const WAITING: Record<string, string> = {
  switch: 'Paused: ready, waiting for the traffic switch',
  advance: 'Paused: waiting to advance to the next step',
  approval: 'Paused: waiting for approval by a second person',
};

function isView(v: unknown): v is View {
  return (
    typeof v === 'object' &&
    v !== null &&
    typeof (v as View).status === 'string' &&
    Array.isArray((v as View).steps)
  );
}

/**
 * The deployment's stored events as a chronological log for people: each event carries the full
 * Deployment view, so a line is what changed since the previous view — status, a wait, a step
 * starting or ending (with its message). Pure.
 */
export function deploymentLog(events: readonly StoredDeploymentEvent[]): DeploymentLogEntry[] {
  const out: DeploymentLogEntry[] = [];
  let prev: View | null = null;
  for (const ev of events) {
    const add = (level: DeploymentLogEntry['level'], message: string) =>
      out.push({ seq: ev.seq, at: ev.at, event: ev.type, level, message });
    const cur = ev.payload;
    if (!isView(cur)) {
      add('info', ev.type);
      continue;
    }
    if (!prev) {
      add(
        'info',
        `Deployment of ${cur.release.version} to ${cur.environment} (${cur.strategy}) requested by ${cur.actor}` +
          (cur.reason ? `: ${cur.reason}` : ''),
      );
    }
    const before = new Map((prev?.steps ?? []).map((s) => [s.position, s]));
    for (const step of cur.steps) {
      const old = before.get(step.position);
      const detail = step.message ? `: ${step.message}` : '';
      if (old?.status === step.status) {
        if (step.message && step.message !== old.message) add('info', `${step.name}${detail}`);
        continue;
      }
      if (step.status === 'running') add('info', `${step.name} started${detail}`);
      else if (step.status === 'succeeded') add('info', `${step.name} done${detail}`);
      else if (step.status === 'failed') add('error', `${step.name} failed${detail}`);
      else if (step.status === 'skipped' && old) add('info', `${step.name} skipped${detail}`);
    }
    if (prev && (prev.status !== cur.status || prev.waitingFor !== cur.waitingFor)) {
      const final = FINAL[cur.status];
      if (final) {
        const traffic = cur.traffic
          ? ` — ${cur.traffic.requests} requests served, ${cur.traffic.failed} failed`
          : '';
        add(final.level, `${final.text}${cur.error ? `: ${cur.error}` : ''}${traffic}`);
      } else if (cur.status === 'paused') {
        add(cur.waitingFor ? 'info' : 'warn', (cur.waitingFor && WAITING[cur.waitingFor]) || 'Paused');
      } else if (cur.status === 'running') {
        add('info', prev.status === 'paused' ? 'Resumed' : 'Running');
      }
    }
    prev = cur;
  }
  return out;
}
