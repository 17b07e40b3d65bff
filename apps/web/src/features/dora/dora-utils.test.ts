import { describe, expect, it } from 'vitest';
import { doraReportFixture } from '../../../../api/src/views/view-fixtures.ts';
import {
  dailyBars,
  formatDuration,
  formatPerDay,
  formatRate,
  linePath,
  linePoints,
  trendOf,
} from './dora-utils';

const report = doraReportFixture();
const prod = report.environments.find((e) => e.environment === 'production')!;
const dev = report.environments.find((e) => e.environment === 'development')!;

describe('DORA figures as people read them', () => {
  it('formats durations, rates and frequencies', () => {
    expect(formatDuration(null)).toBe('—');
    expect(formatDuration(42)).toBe('42 s');
    expect(formatDuration(600)).toBe('10 min');
    expect(formatDuration(5_400)).toBe('1.5 h');
    expect(formatDuration(172_800)).toBe('2.0 d');
    expect(formatRate(null)).toBe('—');
    expect(formatRate(1 / 3)).toBe('33 %');
    expect(formatPerDay(2)).toBe('2.0 / day');
    expect(formatPerDay(2 / 7)).toBe('2.0 / week');
    expect(formatPerDay(0)).toBe('none');
  });

  it('trends say which way and whether it is better, from the server’s windows', () => {
    const [w7, w30] = prod.windows;
    // Production, last 7 days: one failure, its restore, one success (lead 1 d); the 7 before: one success (2 d).
    expect(w7?.current).toMatchObject({
      deployments: 1,
      failures: 1,
      changeFailureRate: 0.5,
      leadTimeSeconds: 86_400,
    });
    expect(trendOf('leadTimeSeconds', w7!.current, w7!.previous, 7)).toEqual({
      direction: 'down',
      better: true,
      text: '▼ 50 % vs the 7 days before',
    });
    expect(trendOf('changeFailureRate', w7!.current, w7!.previous, 7)).toEqual({
      direction: 'up',
      better: false,
      text: '▲ 50 points vs the 7 days before',
    });
    expect(trendOf('deploymentsPerDay', w7!.current, w7!.previous, 7)).toMatchObject({ direction: 'flat' });
    // Nothing before the 30 days: no trend rather than an invented one.
    expect(trendOf('changeFailureRate', w30!.current, w30!.previous, 30)).toBeNull();
  });

  it('draws bars and lines inside their box', () => {
    const days = dev.daily.slice(-7);
    const { bars, max } = dailyBars(days, 70, 40);
    expect(bars).toHaveLength(7);
    expect(max).toBe(Math.max(...days.map((d) => d.succeeded + d.failed)));
    for (const b of bars) {
      expect(b.okY + b.okHeight).toBeCloseTo(40);
      expect(b.failY).toBeGreaterThanOrEqual(0);
      expect(b.x + b.width).toBeLessThanOrEqual(70);
    }
    expect(linePath([null, 2, 4, null, 1], 40, 10)).toBe('M10 5L20 0M40 7.5');
    expect(linePath([null, null], 40, 10)).toBe('');
    expect(linePoints([null, 2, 4, null, 1], 40, 10)).toEqual([
      { i: 1, x: 10, y: 5 },
      { i: 2, x: 20, y: 0 },
      { i: 4, x: 40, y: 7.5 },
    ]);
  });
});
