import { describe, expect, it } from 'vitest';
import { promoteStepTitle, STRATEGY_OPTIONS } from './promote-utils';

describe('promote utils', () => {
  it('offers the three strategies, blue-green first (the default)', () => {
    expect(STRATEGY_OPTIONS.map((s) => s.value)).toEqual(['blue-green', 'rolling', 'canary']);
  });
  it('titles each step', () => {
    expect(promoteStepTitle('preview', 'production')).toBe('Promote to production: what would ship');
    expect(promoteStepTitle('confirm', 'production')).toBe('Promote to production?');
  });
});
