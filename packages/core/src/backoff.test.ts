import { describe, expect, it } from 'vitest';
import { backoffDelay } from './backoff.ts';

describe('backoffDelay', () => {
  const policy = { baseMs: 500, maxMs: 30_000 };

  it('doubles from the base up to the cap', () => {
    expect([0, 1, 2, 3, 10].map((n) => backoffDelay(n, policy))).toEqual([500, 1000, 2000, 4000, 30_000]);
    expect(backoffDelay(-3, policy)).toBe(500);
  });

  it('spreads a jittered delay over the upper half of the ceiling', () => {
    expect(backoffDelay(0, policy, 0)).toBe(250);
    expect(backoffDelay(0, policy, 1)).toBe(500);
    expect(backoffDelay(3, policy, 1)).toBe(4000);
    expect(backoffDelay(20, policy, 1)).toBe(30_000);
    expect(backoffDelay(20, policy, 0)).toBe(15_000);
    expect(backoffDelay(20, policy, 7)).toBe(30_000);
  });
});
