import type { InstanceView } from '@qubot/api-contract';
import { describe, expect, it } from 'vitest';
import { canReadLogs, formatUptime, sortInstances } from './instance-logs-utils';

describe('formatUptime', () => {
  const start = '2026-01-01T10:00:00.000Z';
  const at = (s: number) => Date.parse(start) + s * 1000;
  it('uses the two largest units, and a dash when not running', () => {
    expect(formatUptime(start, at(45), 'running')).toBe('45 s');
    expect(formatUptime(start, at(125), 'running')).toBe('2 min 5 s');
    expect(formatUptime(start, at(3 * 3600 + 12 * 60), 'unhealthy')).toBe('3 h 12 min');
    expect(formatUptime(start, at(26 * 3600), 'running')).toBe('1 d 2 h');
    expect(formatUptime(start, at(-5), 'running')).toBe('0 s');
    expect(formatUptime(start, at(100), 'stopped')).toBe('—');
  });
});

describe('sortInstances', () => {
  const i = (id: string, pool: 'blue' | 'green', startedAt: string): InstanceView => ({
    id,
    pool,
    version: '1',
    status: 'running',
    healthy: true,
    port: 1,
    restarts: 0,
    startedAt,
  });
  it('groups by pool, newest first', () => {
    const list = [
      i('g1', 'green', '2026-01-01T00:00:00Z'),
      i('b1', 'blue', '2026-01-01T00:00:00Z'),
      i('b2', 'blue', '2026-01-02T00:00:00Z'),
    ];
    expect(sortInstances(list).map((x) => x.id)).toEqual(['b2', 'b1', 'g1']);
  });
});

describe('canReadLogs', () => {
  it('is deployer and up, release-manager and up when protected', () => {
    expect(canReadLogs(undefined, false)).toBe(false);
    expect(canReadLogs('viewer', false)).toBe(false);
    expect(canReadLogs('deployer', false)).toBe(true);
    expect(canReadLogs('deployer', true)).toBe(false);
    expect(canReadLogs('release-manager', true)).toBe(true);
    expect(canReadLogs('admin', true)).toBe(true);
  });
});
