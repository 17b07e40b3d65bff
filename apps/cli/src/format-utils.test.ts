import { describe, expect, it } from 'vitest';
import {
  COLORS,
  deploymentsTable,
  environmentsTable,
  formatTraffic,
  PLAIN,
  shortTime,
  statusColor,
  table,
  visibleLength,
} from './format-utils.ts';
import { activeCanary, deployment, environment } from './test-fixtures.ts';

describe('[CLI] output formatting', () => {
  it('aligns table columns, ignoring colour escapes', () => {
    const text = table(
      ['A', 'LONGER'],
      [
        ['xyz', '1'],
        [COLORS.red('q'), '2'],
      ],
    );
    expect(text.split('\n')).toEqual(['A    LONGER', 'xyz  1', '\u001b[31mq\u001b[39m    2']);
    expect(visibleLength(COLORS.red('q'))).toBe(1);
  });

  it('colours statuses only with a colour style', () => {
    expect(statusColor('failed', PLAIN)).toBe('failed');
    expect(statusColor('failed', COLORS)).toBe('\u001b[31mfailed\u001b[39m');
    expect(statusColor('succeeded', COLORS)).toContain('\u001b[32m');
  });

  it('shows traffic split and environments in one line each', () => {
    expect(
      formatTraffic([
        { pool: 'blue', version: '1.0.0', weight: 90 },
        { pool: 'green', version: '1.1.0', weight: 10 },
      ]),
    ).toBe('blue 1.0.0 90% · green 1.1.0 10%');
    expect(formatTraffic([])).toBe('-');
    const text = environmentsTable([
      environment(),
      environment({
        name: 'production',
        protected: true,
        live: null,
        activeColor: null,
        traffic: [],
        instances: [],
        activeDeployment: activeCanary(),
      }),
    ]);
    const lines = text.split('\n');
    expect(lines[0]).toMatch(/^ENVIRONMENT\s+LIVE\s+COLOUR\s+TRAFFIC\s+HEALTH\s+ACTIVE DEPLOYMENT$/);
    expect(lines[1]).toMatch(/^staging\s+1\.2\.2\s+blue\s+blue 1\.2\.2 100% · green 0%\s+1\/1 healthy\s+-$/);
    expect(lines[2]).toMatch(
      /^production \(protected\)\s+-\s+-\s+-\s+-\s+canary 1\.2\.3 paused \(waiting for advance\)$/,
    );
  });

  it('lists deployments with the version change and waiting reason', () => {
    const text = deploymentsTable([deployment({ status: 'paused', waitingFor: 'switch' })]);
    expect(text.split('\n')[1]).toContain('1.2.2 → 1.2.3');
    expect(text.split('\n')[1]).toContain('paused (switch)');
    expect(shortTime('2025-01-02T03:04:05.000Z')).toBe('2025-01-02 03:04');
  });
});
