import { describe, expect, it } from 'vitest';
import { dayBound } from './audit-utils';

describe('dayBound', () => {
  it('turns a local day into the date-time bounds the API takes, both days included', () => {
    const from = dayBound('2026-11-30', 'from');
    const to = dayBound('2026-11-30', 'to');
    expect(from).toBe(new Date(2026, 10, 30).toISOString());
    expect(to).toBe(new Date(2026, 11, 1).toISOString());
    expect(Date.parse(to!) - Date.parse(from!)).toBeGreaterThanOrEqual(23 * 3600_000);
  });
  it('leaves out what is not a day', () => {
    expect(dayBound(undefined, 'from')).toBeUndefined();
    expect(dayBound('30/11/2026', 'to')).toBeUndefined();
  });
});
