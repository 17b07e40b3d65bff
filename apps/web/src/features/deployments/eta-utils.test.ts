import { describe, expect, it } from 'vitest';
import { etaBasis, etaLabel } from './eta-utils';

const eta = { p90Seconds: 300, samples: 7, expectedFinishAt: '2026-01-01T10:05:00.000Z' };
const at = (iso: string) => Date.parse(iso);

describe('etaLabel', () => {
  it('counts down in seconds, then minutes, and says when it is late', () => {
    expect(etaLabel(null, 0)).toBeNull();
    expect(etaLabel(eta, at('2026-01-01T10:04:20.000Z'))).toBe('about 40 s left');
    expect(etaLabel(eta, at('2026-01-01T10:01:00.000Z'))).toBe('about 4 min left');
    expect(etaLabel(eta, at('2026-01-01T10:05:01.000Z'))).toBe('taking longer than usual');
  });
  it('explains its basis', () => {
    expect(etaBasis(eta)).toBe('p90 of 7 earlier succeeded deployments like this one: 300 s');
  });
});
