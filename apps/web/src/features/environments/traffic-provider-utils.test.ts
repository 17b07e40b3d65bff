import type { Environment, TrafficProviderStatus } from '@qubot/api-contract';
import { describe, expect, it } from 'vitest';
import { providerHealth, targetRows } from './traffic-provider-utils';

const haproxy = (targets: NonNullable<TrafficProviderStatus['health']>['targets']) =>
  ({
    kind: 'haproxy',
    health: { ok: true, pid: 42, revision: 3, targets },
    error: null,
  }) as const;
const up = { status: 'up' as const, restarts: 0, lastOutageAt: null };

describe('providerHealth', () => {
  it('counts the targets taking traffic that pass the provider’s own check', () => {
    const t = (target: string, state: 'ready' | 'drain' | 'maint', ok: boolean) => ({
      pool: 'blue',
      target,
      state,
      up: ok,
      check: ok ? 'L7OK' : 'L4CON',
    });
    expect(providerHealth(haproxy([t('a:1', 'ready', true), t('a:2', 'ready', true)]), up)).toEqual({
      tone: 'ok',
      label: 'Serving (pid 42); 2/2 targets pass its health check',
    });
    // A draining target does not count; one failing of two is a warning, all failing is bad.
    expect(
      providerHealth(
        haproxy([t('a:1', 'ready', true), t('a:2', 'ready', false), t('a:3', 'drain', false)]),
        up,
      ).tone,
    ).toBe('warn');
    expect(providerHealth(haproxy([t('a:1', 'ready', false)]), up).tone).toBe('bad');
  });

  it('says when there is no router, when it did not answer, and during a handover', () => {
    expect(providerHealth({ kind: 'node', health: null, error: null }, up).tone).toBe('muted');
    expect(
      providerHealth({ kind: 'haproxy', health: null, error: 'the haproxy router did not answer' }, up),
    ).toEqual({
      tone: 'bad',
      label: 'the haproxy router did not answer',
    });
    expect(
      providerHealth({ kind: 'haproxy', health: null, error: null }, { ...up, status: 'handover' }).tone,
    ).toBe('warn');
    expect(
      providerHealth(
        { kind: 'node', health: { ok: true, pid: 7, revision: 1, targets: null }, error: null },
        up,
      ),
    ).toEqual({ tone: 'ok', label: 'Serving (pid 7)' });
  });
});

describe('targetRows', () => {
  it('sorts by pool and names the instance behind each target by its port', () => {
    const instances = [
      { id: 'dev-green-1', pool: 'green', port: 4002 },
      { id: 'dev-blue-1', pool: 'blue', port: 4001 },
    ] as Environment['instances'];
    const rows = targetRows(
      [
        { pool: 'green', target: '127.0.0.1:4002', state: 'ready', up: true, check: 'L7OK' },
        { pool: 'blue', target: '127.0.0.1:4001', state: 'drain', up: true, check: 'L7OK' },
        { pool: 'blue', target: '127.0.0.1:4999', state: 'ready', up: false, check: 'L4CON' },
      ],
      instances,
    );
    expect(rows.map((r) => [r.pool, r.target, r.instance])).toEqual([
      ['blue', '127.0.0.1:4001', 'dev-blue-1'],
      ['blue', '127.0.0.1:4999', null],
      ['green', '127.0.0.1:4002', 'dev-green-1'],
    ]);
  });
});
