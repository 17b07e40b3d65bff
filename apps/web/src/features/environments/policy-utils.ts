import type { EnvironmentPolicy, PolicyNext } from '@qubot/api-contract';

/** "14:05" today, "2 Dec 14:05" another day (the viewer's time zone). */
export function clockTime(iso: string, now: Date, timeZone?: string): string {
  const at = new Date(iso);
  const opts = timeZone ? { timeZone } : {};
  const time = new Intl.DateTimeFormat('en-GB', {
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
    ...opts,
  }).format(at);
  const day = (d: Date) =>
    new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'short', ...opts }).format(d);
  return day(at) === day(now) ? time : `${day(at)} ${time}`;
}

const VERB = { deploy: 'deploys', promote: 'promotes' } as const;

/**
 * What the environment's policy will do next, as the card says it: "promotes 1.2.0 at 14:05 if
 * still healthy", "deploys 2.0.0 now (requests approval)", "paused by alice", "manual".
 */
export function policySentence(p: EnvironmentPolicy, now: Date, timeZone?: string): string {
  const n: PolicyNext = p.next;
  const request = p.policy.requestsApproval ? ' (requests approval)' : '';
  switch (n.state) {
    case 'manual':
      return 'Manual: people start deployments here';
    case 'paused':
      return `Paused${p.policy.pausedBy ? ` by ${p.policy.pausedBy}` : ''}: nothing happens automatically`;
    case 'idle':
      return n.summary.charAt(0).toUpperCase() + n.summary.slice(1);
    case 'scheduled': {
      const verb = n.action ? VERB[n.action] : 'acts on';
      const cond = n.action === 'promote' ? ' if still healthy' : '';
      const when =
        n.at && new Date(n.at).getTime() > now.getTime() ? ` at ${clockTime(n.at, now, timeZone)}` : ' now';
      return `${verb.charAt(0).toUpperCase()}${verb.slice(1)} ${n.version}${when}${cond}${request}`;
    }
    case 'blocked': {
      const verb = n.action ? VERB[n.action] : 'acts on';
      return `Waits to ${verb.replace(/s$/, '')} ${n.version}: held by ${n.blockedBy ?? 'a condition'}`;
    }
  }
}
