import { describe, expect, it } from 'vitest';
import { liveIn, matrixCell, parseTestResults, safeHttpUrl } from './release-utils';

describe('parseTestResults', () => {
  it('reads the CI shape and summarises it', () => {
    expect(parseTestResults({ passed: 120, failed: 0, skipped: 3, url: 'https://ci.example/1' })).toEqual({
      passed: 120,
      failed: 0,
      skipped: 3,
      url: 'https://ci.example/1',
      ok: true,
      label: '120 passed, 0 failed, 3 skipped',
    });
    expect(parseTestResults({ passed: 1, failed: 2 })?.ok).toBe(false);
  });
  it('ignores anything else and unsafe links', () => {
    expect(parseTestResults(null)).toBeNull();
    expect(parseTestResults('ok')).toBeNull();
    expect(parseTestResults({ passed: 1, failed: 0, url: 'javascript:alert(1)' })?.url).toBeNull();
  });
});

describe('safeHttpUrl', () => {
  it('keeps http(s) only', () => {
    expect(safeHttpUrl('https://ci.example/build/1')).toBe('https://ci.example/build/1');
    expect(safeHttpUrl('javascript:alert(1)')).toBeNull();
    expect(safeHttpUrl('not a url')).toBeNull();
    expect(safeHttpUrl(null)).toBeNull();
  });
});

describe('liveIn', () => {
  it('lists environments where the release is live', () => {
    expect(
      liveIn({
        deployedTo: [
          { environment: 'development', live: false, lastStatus: 'succeeded' },
          { environment: 'staging', live: true, lastStatus: 'succeeded' },
        ],
      }),
    ).toEqual(['staging']);
  });
});

describe('matrixCell', () => {
  const release = {
    deployedTo: [
      { environment: 'development', live: true, lastStatus: 'succeeded' as const },
      { environment: 'staging', live: false, lastStatus: 'rolled_back' as const },
    ],
  };
  it('says live, the last result, or never, per environment', () => {
    expect(matrixCell(release, 'development')).toEqual({ kind: 'live' });
    expect(matrixCell(release, 'staging')).toEqual({ kind: 'status', status: 'rolled_back' });
    expect(matrixCell(release, 'production')).toEqual({ kind: 'never' });
  });
});
