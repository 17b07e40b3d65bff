import type { Deployment, Step } from '@qubot/api-contract';
import { describe, expect, it } from 'vitest';
import { deploymentFixture } from '../../../../api/src/views/view-fixtures.ts';
import { logVersion, trafficSentence } from './deployment-log-utils';

// A rolling deployment as the server sends it, its first batch under way.
const d = deploymentFixture({
  input: { strategy: 'rolling', version: '1.1.0', fromVersion: '1.0.0' },
  drive: (sim) => {
    sim.responder = (cmd) => (cmd.kind === 'waitHealthy' ? null : 'default');
    sim.start().run({ timers: false });
  },
});

describe('logVersion', () => {
  it('changes with status, waits and steps, not with anything else', () => {
    const i = d.steps.findIndex((s) => s.status === 'running');
    expect(i).toBeGreaterThanOrEqual(0);
    const withStep = (change: Partial<Step>) => ({
      ...d,
      steps: d.steps.map((s, j) => (j === i ? { ...s, ...change } : s)),
    });
    const v = logVersion(d);
    const moreTraffic: Deployment = { ...d, traffic: { requests: 10, failed: 0 } };
    expect(logVersion(moreTraffic)).toBe(v);
    expect(logVersion({ ...d, status: 'paused', waitingFor: 'switch' })).not.toBe(v);
    expect(logVersion(withStep({ message: '1 of 2 healthy' }))).not.toBe(v);
    expect(logVersion(withStep({ status: 'succeeded' }))).not.toBe(v);
  });
});

describe('trafficSentence', () => {
  it('says how many were served and failed', () => {
    expect(trafficSentence({ requests: 12345, failed: 0 })).toBe('12,345 requests served, 0 failed');
    expect(trafficSentence({ requests: 1, failed: 1 })).toBe('1 request served, 1 failed');
  });
});
