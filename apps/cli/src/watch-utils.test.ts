import { describe, expect, it } from 'vitest';
import { deployment, environment } from './test-fixtures.ts';
import {
  backoff,
  deploymentChanges,
  deploymentOf,
  environmentChanges,
  environmentOf,
  eventsUrl,
  parseServerMessage,
} from './watch-utils.ts';

describe('[CLI] watch output', () => {
  it('introduces a deployment with the steps already under way', () => {
    expect(deploymentChanges(null, deployment())).toEqual([
      'deployment 0b5c0000-0000-4000-8000-000000000001: deploy 1.2.3 to staging (blue-green) — running',
      ' 1. start green succeeded',
      ' 2. health check running',
    ]);
  });

  it('prints one line per step change and per status change', () => {
    const before = deployment();
    const after = deployment({
      status: 'paused',
      waitingFor: 'switch',
      steps: [
        before.steps[0]!,
        { ...before.steps[1]!, status: 'succeeded', message: '2/2 healthy' },
        { ...before.steps[2]!, status: 'waiting' },
      ],
    });
    expect(deploymentChanges(before, after)).toEqual([
      ' 2. health check succeeded — 2/2 healthy',
      ' 3. switch traffic waiting',
      'status: running → paused (waiting for switch)',
    ]);
    expect(deploymentChanges(after, after)).toEqual([]);
  });

  it('reports the error once when a deployment fails', () => {
    const failed = deployment({ status: 'rolled_back', error: 'health check failed' });
    expect(deploymentChanges(deployment(), failed)).toEqual([
      'status: running → rolled_back',
      'error: health check failed',
    ]);
    expect(deploymentChanges(failed, failed)).toEqual([]);
  });

  it('notices live version and traffic changes of an environment', () => {
    const before = environment();
    const after = environment({
      live: { version: '1.2.3' },
      activeColor: 'green',
      traffic: [{ pool: 'green', version: '1.2.3', weight: 100 }],
    });
    expect(environmentChanges(null, after)).toEqual([]);
    expect(environmentChanges(before, after)).toEqual([
      'staging: live 1.2.2 → 1.2.3',
      'staging: traffic green 1.2.3 100% (active green)',
    ]);
  });

  it('parses the server messages of docs/events.md and ignores the rest', () => {
    expect(
      parseServerMessage(
        '{"type":"event","seq":5,"prev":4,"event":"deployment.updated","topics":[],"data":{"id":"d"},"at":"x"}',
      ),
    ).toEqual({
      kind: 'event',
      seq: 5,
      event: 'deployment.updated',
      data: { id: 'd' },
    });
    expect(parseServerMessage('{"type":"subscribed","topics":[],"since":null,"lastSeq":9}')).toEqual({
      kind: 'subscribed',
      lastSeq: 9,
    });
    expect(parseServerMessage('{"type":"heartbeat","seq":3}')).toEqual({ kind: 'heartbeat', seq: 3 });
    expect(
      parseServerMessage('{"type":"error","code":"forbidden","message":"no","field":"topics[0]"}'),
    ).toEqual({
      kind: 'error',
      code: 'forbidden',
      message: 'no',
      field: 'topics[0]',
    });
    expect(parseServerMessage('not json')).toEqual({ kind: 'other' });
    expect(parseServerMessage('{"type":"event"}')).toEqual({ kind: 'other' });
  });

  it('recognises deployment and environment payloads', () => {
    expect(deploymentOf('deployment.updated', deployment())?.id).toBe(deployment().id);
    expect(deploymentOf('environment.updated', deployment())).toBeNull();
    expect(deploymentOf('deployment.updated', { id: 'x' })).toBeNull();
    expect(environmentOf('environment.updated', environment())?.name).toBe('staging');
  });

  it('derives the websocket URL and backs off up to 10 s', () => {
    expect(eventsUrl('http://127.0.0.1:8080')).toBe('ws://127.0.0.1:8080/api/v1/events');
    expect(eventsUrl('https://deploy.example.com/qubot')).toBe(
      'wss://deploy.example.com/qubot/api/v1/events',
    );
    expect([0, 1, 2, 10].map(backoff)).toEqual([500, 1000, 2000, 10_000]);
  });
});
