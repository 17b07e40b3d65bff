import { describe, expect, it } from 'vitest';
import { fromLocalInput, recurrenceLabel, toLocalInput } from './freeze-utils';

describe('freeze window helpers', () => {
  it('describes weekly windows and leaves one-off ones to the caller', () => {
    expect(
      recurrenceLabel({
        recurrence: { days: [5, 6], start: '18:00', end: '06:00', timezone: 'Europe/Paris' },
      }),
    ).toBe('weekly Fri,Sat 18:00–06:00 Europe/Paris');
    expect(recurrenceLabel({ recurrence: null })).toBeNull();
  });

  it('round-trips datetime-local values through ISO instants', () => {
    const at = new Date(2026, 2, 7, 9, 5);
    expect(toLocalInput(at)).toBe('2026-03-07T09:05');
    expect(fromLocalInput(toLocalInput(at))).toBe(at.toISOString());
    expect(fromLocalInput('')).toBeNull();
    expect(fromLocalInput('not a date')).toBeNull();
  });
});
