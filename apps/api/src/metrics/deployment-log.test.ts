import { describe, expect, it } from 'vitest';
import { deploymentLog, type StoredDeploymentEvent } from './deployment-log.ts';

const base = {
  release: { version: '1.1.0', artifact: 'qubot-one/healthy' },
  strategy: 'blue-green',
  environment: 'staging',
  actor: 'rita',
  reason: 'weekly release',
  error: null,
  waitingFor: null,
  traffic: { requests: 0, failed: 0 },
};
const step = (position: number, name: string, status: string, message: string | null = null) => ({
  position,
  name,
  status,
  message,
  startedAt: null,
  finishedAt: null,
});
let seq = 10;
const ev = (payload: object, type = 'deployment.updated'): StoredDeploymentEvent => ({
  seq: ++seq,
  type,
  at: `2026-01-01T10:00:${String(seq).padStart(2, '0')}.000Z`,
  payload: { ...base, ...payload },
});

describe('deploymentLog', () => {
  it('turns successive views into what changed, in order, with the event time', () => {
    const events = [
      ev(
        { status: 'pending', steps: [step(0, 'start green', 'pending'), step(1, 'switch', 'pending')] },
        'deployment.created',
      ),
      ev({ status: 'running', steps: [step(0, 'start green', 'running'), step(1, 'switch', 'pending')] }),
      ev({
        status: 'paused',
        waitingFor: 'switch',
        steps: [step(0, 'start green', 'succeeded', '2 instances healthy'), step(1, 'switch', 'pending')],
      }),
      ev({
        status: 'running',
        steps: [step(0, 'start green', 'succeeded', '2 instances healthy'), step(1, 'switch', 'running')],
      }),
      ev({
        status: 'succeeded',
        traffic: { requests: 1234, failed: 0 },
        steps: [step(0, 'start green', 'succeeded', '2 instances healthy'), step(1, 'switch', 'succeeded')],
      }),
    ];
    const log = deploymentLog(events);
    expect(log.map((l) => [l.level, l.message])).toEqual([
      ['info', 'Deployment of 1.1.0 to staging (blue-green) requested by rita: weekly release'],
      ['info', 'start green started'],
      ['info', 'Running'],
      ['info', 'start green done: 2 instances healthy'],
      ['info', 'Paused: ready, waiting for the traffic switch'],
      ['info', 'switch started'],
      ['info', 'Resumed'],
      ['info', 'switch done'],
      ['info', 'Deployment succeeded — 1234 requests served, 0 failed'],
    ]);
    expect(log[0]).toMatchObject({ seq: events[0]?.seq, at: events[0]?.at, event: 'deployment.created' });
    expect(log.at(-1)?.seq).toBe(events[4]?.seq);
  });

  it('reports failures as errors with the reason', () => {
    const log = deploymentLog([
      ev({ status: 'running', steps: [step(0, 'health', 'running')] }),
      ev({ status: 'running', steps: [step(0, 'health', 'running', '1 of 2 healthy')] }),
      ev({
        status: 'rolled_back',
        error: 'health check timed out',
        traffic: { requests: 10, failed: 2 },
        steps: [step(0, 'health', 'failed', 'timed out')],
      }),
    ]);
    expect(log.slice(1).map((l) => [l.level, l.message])).toEqual([
      ['info', 'health started'],
      ['info', 'health: 1 of 2 healthy'],
      ['error', 'health failed: timed out'],
      ['error', 'Deployment rolled back: health check timed out — 10 requests served, 2 failed'],
    ]);
  });

  it('keeps events it cannot read as their type', () => {
    const at = '2026-01-01T00:00:00.000Z';
    expect(deploymentLog([{ seq: 1, type: 'something.else', at, payload: null }])).toEqual([
      { seq: 1, at, event: 'something.else', level: 'info', message: 'something.else' },
    ]);
  });
});
