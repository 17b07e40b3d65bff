import { describe, expect, it } from 'vitest';
import { computeEta, percentile } from './eta.ts';

describe('percentile', () => {
  it('is the nearest rank', () => {
    expect(percentile([], 0.9)).toBeNull();
    expect(percentile([5], 0.9)).toBe(5);
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.9)).toBe(9);
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], 0.9)).toBe(10);
    expect(percentile([10, 20, 30], 0.9)).toBe(30);
  });
});

describe('computeEta', () => {
  const start = new Date('2026-01-01T10:00:00.000Z');

  it('is null with fewer than 3 samples', () => {
    expect(computeEta([], start)).toBeNull();
    expect(computeEta([30, 40], start)).toBeNull();
    // Unusable durations do not count.
    expect(computeEta([30, 40, Number.NaN, -1], start)).toBeNull();
  });

  it('takes the p90 of the samples, in any order, and adds it to the start', () => {
    const eta = computeEta([50, 10, 40, 20, 30, 60, 70, 80, 100, 90], start);
    expect(eta).toEqual({ p90Seconds: 90, samples: 10, expectedFinishAt: '2026-01-01T10:01:30.000Z' });
  });

  it('with 3 samples the slowest is the p90', () => {
    expect(computeEta([12.34, 8, 10], start)).toEqual({
      p90Seconds: 12.3,
      samples: 3,
      expectedFinishAt: '2026-01-01T10:00:12.340Z',
    });
  });
});
