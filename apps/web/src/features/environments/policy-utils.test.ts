import type { EnvironmentPolicy } from '@qubot/api-contract';
import { describe, expect, it } from 'vitest';
import { clockTime, policySentence } from './policy-utils';

const base: EnvironmentPolicy = {
  environment: 'staging',
  policy: {
    mode: 'auto',
    rule: 'soak',
    soakSeconds: 600,
    strategy: 'blue-green',
    options: {},
    requestsApproval: false,
    paused: false,
    pausedBy: null,
    pausedAt: null,
    updatedBy: 'admin',
    updatedAt: '2026-12-01T13:00:00.000Z',
  },
  next: {
    state: 'idle',
    action: null,
    version: null,
    at: null,
    blockedBy: null,
    summary: 'waits for a release live in development',
  },
  at: '2026-12-01T13:55:00.000Z',
};
const now = new Date('2026-12-01T13:55:00.000Z');

describe('policySentence', () => {
  it("says when a soak ends, in the viewer's time, and the condition", () => {
    const p = {
      ...base,
      next: {
        ...base.next,
        state: 'scheduled' as const,
        action: 'promote' as const,
        version: '1.2.0',
        at: '2026-12-01T14:05:00.000Z',
      },
    };
    expect(policySentence(p, now, 'UTC')).toBe('Promotes 1.2.0 at 14:05 if still healthy');
    expect(policySentence(p, now, 'Europe/Paris')).toBe('Promotes 1.2.0 at 15:05 if still healthy');
  });
  it('says a protected environment only requests', () => {
    const p = {
      ...base,
      policy: { ...base.policy, requestsApproval: true },
      next: {
        ...base.next,
        state: 'scheduled' as const,
        action: 'promote' as const,
        version: '1.2.0',
        at: '2026-12-02T09:00:00.000Z',
      },
    };
    expect(policySentence(p, now, 'UTC')).toBe(
      'Promotes 1.2.0 at 2 Dec 09:00 if still healthy (requests approval)',
    );
  });
  it('manual, paused, idle and blocked', () => {
    expect(policySentence({ ...base, next: { ...base.next, state: 'manual' } }, now)).toMatch(/^Manual/);
    expect(
      policySentence(
        {
          ...base,
          policy: { ...base.policy, paused: true, pausedBy: 'rm' },
          next: { ...base.next, state: 'paused' },
        },
        now,
      ),
    ).toBe('Paused by rm: nothing happens automatically');
    expect(policySentence(base, now)).toBe('Waits for a release live in development');
    expect(
      policySentence(
        {
          ...base,
          next: {
            ...base.next,
            state: 'blocked',
            action: 'deploy',
            version: '2.0.0',
            blockedBy: 'the freeze window "party"',
          },
        },
        now,
      ),
    ).toBe('Waits to deploy 2.0.0: held by the freeze window "party"');
  });
  it('clockTime shows the day when it is not today', () => {
    expect(clockTime('2026-12-01T14:05:00.000Z', now, 'UTC')).toBe('14:05');
    expect(clockTime('2026-12-03T08:00:00.000Z', now, 'UTC')).toBe('3 Dec 08:00');
  });
});
