import { AUDIT_ACTION_PREFIXES, AUDIT_ACTIONS as CONTRACT_ACTIONS } from '@qubot/api-contract';
import { describe, expect, it } from 'vitest';
import { AUDIT_ACTIONS, dayBound } from './audit-utils';

describe('AUDIT_ACTIONS (the action filter)', () => {
  it('offers exactly the actions the contract lists, and its prefixes, each once', () => {
    const values = AUDIT_ACTIONS.map((a) => a.value);
    expect(new Set(values).size).toBe(values.length);
    expect(values.filter((v) => !v.endsWith('.')).sort()).toEqual(Object.keys(CONTRACT_ACTIONS).sort());
    expect(values.filter((v) => v.endsWith('.')).sort()).toEqual(Object.keys(AUDIT_ACTION_PREFIXES).sort());
    // Actions the old hand-written list missed are there.
    expect(values).toEqual(expect.arrayContaining(['user.update', 'auth.logout', 'token.revoke']));
  });
  it('puts each prefix before its actions, and labels an action with what it means', () => {
    const values = AUDIT_ACTIONS.map((a) => a.value);
    expect(values.indexOf('deployment.')).toBeLessThan(values.indexOf('deployment.create'));
    expect(AUDIT_ACTIONS.find((a) => a.value === 'environment.rollback')?.label).toBe(
      'environment.rollback — roll back',
    );
  });
});

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
