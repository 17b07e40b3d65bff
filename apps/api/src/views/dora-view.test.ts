import type { DailyRow } from '@qubot/db';
import { describe, expect, it } from 'vitest';
import { dailySeries, dayOffset, doraWindows, figures } from './dora-view.ts';

const NOW = Date.parse('2026-12-01T12:00:00Z');
const row = (day: string, r: Partial<DailyRow>): DailyRow => ({
  environmentId: 'e',
  day,
  succeeded: 0,
  failed: 0,
  aborted: 0,
  leadTimeSum: 0,
  leadTimeCount: 0,
  restoreSum: 0,
  restoreCount: 0,
  ...r,
});

// Hand-computed: today 2 successes (lead 100 s, 300 s), 1 failure; 3 days ago 1 success after a
// restore of 600 s; 10 days ago 4 successes and 4 failures (lead 4 × 50 s); 40 days ago 1 success.
const ROWS = [
  row('2026-12-01', { succeeded: 2, failed: 1, leadTimeSum: 400, leadTimeCount: 2 }),
  row('2026-11-28', { succeeded: 1, leadTimeSum: 1000, leadTimeCount: 1, restoreSum: 600, restoreCount: 1 }),
  row('2026-11-21', { succeeded: 4, failed: 4, aborted: 3, leadTimeSum: 200, leadTimeCount: 4 }),
  row('2026-10-22', { succeeded: 1, leadTimeSum: 10, leadTimeCount: 1 }),
];

describe('[DORA] figures from the daily rollup', () => {
  it('windows end today (included) and start N days back (excluded)', () => {
    expect(dayOffset(NOW, 0)).toBe('2026-12-01');
    expect(dayOffset(NOW, 7)).toBe('2026-11-24');
    const [w7, w30, w90] = doraWindows(ROWS, NOW);
    expect(w7).toEqual({
      days: 7,
      current: {
        deployments: 3,
        deploymentsPerDay: 3 / 7,
        failures: 1,
        changeFailureRate: 1 / 4,
        leadTimeSeconds: 1400 / 3,
        timeToRestoreSeconds: 600,
      },
      previous: {
        deployments: 4,
        deploymentsPerDay: 4 / 7,
        failures: 4,
        changeFailureRate: 0.5,
        leadTimeSeconds: 50,
        timeToRestoreSeconds: null,
      },
    });
    expect(w30?.current).toMatchObject({ deployments: 7, failures: 5, changeFailureRate: 5 / 12 });
    expect(w30?.previous).toMatchObject({
      deployments: 1,
      failures: 0,
      changeFailureRate: 0,
      leadTimeSeconds: 10,
    });
    expect(w90?.current).toMatchObject({ deployments: 8, deploymentsPerDay: 8 / 90 });
    expect(w90?.previous.changeFailureRate).toBeNull();
  });

  it('nothing finished: zero frequency, and no rate, lead time or restore time', () => {
    expect(figures([], '2026-11-24', '2026-12-01', 7)).toEqual({
      deployments: 0,
      deploymentsPerDay: 0,
      failures: 0,
      changeFailureRate: null,
      leadTimeSeconds: null,
      timeToRestoreSeconds: null,
    });
  });

  it('one point per day, oldest first, zeros where nothing finished', () => {
    const s = dailySeries(ROWS, NOW, 7);
    expect(s.map((d) => d.day)).toEqual([
      '2026-11-25',
      '2026-11-26',
      '2026-11-27',
      '2026-11-28',
      '2026-11-29',
      '2026-11-30',
      '2026-12-01',
    ]);
    expect(s[3]).toEqual({ day: '2026-11-28', succeeded: 1, failed: 0, leadTimeSeconds: 1000 });
    expect(s[6]).toEqual({ day: '2026-12-01', succeeded: 2, failed: 1, leadTimeSeconds: 200 });
    expect(s[0]).toEqual({ day: '2026-11-25', succeeded: 0, failed: 0, leadTimeSeconds: null });
  });
});
