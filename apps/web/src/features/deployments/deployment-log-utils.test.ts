import { describe, expect, it } from 'vitest';
import { logVersion, trafficSentence } from './deployment-log-utils';

const d = {
  status: 'running' as const,
  waitingFor: null,
  error: null,
  steps: [
    { position: 0, name: 'start', status: 'running', message: null, startedAt: null, finishedAt: null },
  ],
};

describe('logVersion', () => {
  it('changes with status, waits and steps, not with anything else', () => {
    const v = logVersion(d);
    expect(logVersion({ ...d })).toBe(v);
    expect(logVersion({ ...d, status: 'paused', waitingFor: 'switch' })).not.toBe(v);
    expect(logVersion({ ...d, steps: [{ ...d.steps[0]!, message: '1 of 2 healthy' }] })).not.toBe(v);
    expect(logVersion({ ...d, steps: [{ ...d.steps[0]!, status: 'succeeded' }] })).not.toBe(v);
  });
});

describe('trafficSentence', () => {
  it('says how many were served and failed', () => {
    expect(trafficSentence({ requests: 12345, failed: 0 })).toBe('12,345 requests served, 0 failed');
    expect(trafficSentence({ requests: 1, failed: 1 })).toBe('1 request served, 1 failed');
  });
});
