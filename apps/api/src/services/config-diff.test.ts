import { describe, expect, it } from 'vitest';
import { diffConfig, sameEntries } from './config-diff.ts';

const sides = { from: { environment: 'a', version: 1 }, to: { environment: 'b', version: 2 } };

describe('[config] diffConfig', () => {
  it('sorts keys into added, removed and changed, masking secrets', () => {
    const d = diffConfig(
      {
        A: { value: '1', secret: false },
        S: { value: 'old', secret: true },
        GONE: { value: 'x', secret: false },
      },
      {
        A: { value: '1', secret: false },
        S: { value: 'new', secret: true },
        NEW: { value: 'y', secret: true },
      },
      sides,
    );
    expect(d.added).toEqual([{ key: 'NEW', from: null, to: '••••••', secret: true, changed: true }]);
    expect(d.removed).toEqual([{ key: 'GONE', from: 'x', to: null, secret: false, changed: true }]);
    expect(d.changed).toEqual([{ key: 'S', from: '••••••', to: '••••••', secret: true, changed: true }]);
    expect(d.unchanged).toBe(1);
    expect(JSON.stringify(d)).not.toMatch(/old|new/);
  });

  it('treats a change of the secret flag as a change', () => {
    const d = diffConfig({ A: { value: '1', secret: false } }, { A: { value: '1', secret: true } }, sides);
    expect(d.changed).toEqual([{ key: 'A', from: '1', to: '••••••', secret: true, changed: true }]);
    expect(sameEntries({ A: { value: '1', secret: false } }, { A: { value: '1', secret: false } })).toBe(
      true,
    );
    expect(sameEntries({}, { A: { value: '1', secret: false } })).toBe(false);
  });
});
