import type { Deployment } from '@qubot/api-contract';

/**
 * Changes whenever something the log shows changed (status, wait, a step's status or message),
 * so the log is read again exactly then — and not for every traffic figure.
 */
export function logVersion(d: Pick<Deployment, 'status' | 'waitingFor' | 'steps' | 'error'>): string {
  return [
    d.status,
    d.waitingFor ?? '',
    d.error ?? '',
    ...d.steps.map((s) => `${s.status}:${s.message ?? ''}`),
  ].join('|');
}

/** "N requests served, M failed" — the proof a rollout dropped nothing. */
export function trafficSentence(traffic: Deployment['traffic']): string {
  const n = (v: number) => v.toLocaleString('en-US');
  return `${n(traffic.requests)} ${traffic.requests === 1 ? 'request' : 'requests'} served, ${n(traffic.failed)} failed`;
}
