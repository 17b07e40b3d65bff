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
      { compareSecrets: true },
    );
    expect(d.added).toEqual([{ key: 'NEW', from: null, to: '••••••', secret: true, changed: true }]);
    expect(d.removed).toEqual([{ key: 'GONE', from: 'x', to: null, secret: false, changed: true }]);
    expect(d.changed).toEqual([{ key: 'S', from: '••••••', to: '••••••', secret: true, changed: true }]);
    expect(d.unchanged).toBe(1);
    expect(JSON.stringify(d)).not.toMatch(/old|new/);
  });

  it('treats a change of the secret flag as a change', () => {
    const d = diffConfig({ A: { value: '1', secret: false } }, { A: { value: '1', secret: true } }, sides, {
      compareSecrets: false,
    });
    expect(d.changed).toEqual([{ key: 'A', from: '1', to: '••••••', secret: true, changed: true }]);
    const opts = { compareSecrets: false };
    expect(
      sameEntries({ A: { value: '1', secret: false } }, { A: { value: '1', secret: false } }, opts),
    ).toBe(true);
    expect(sameEntries({}, { A: { value: '1', secret: false } }, opts)).toBe(false);
  });

  it('compares secret values only for a caller who may read them', () => {
    const from = { S: { value: 'same', secret: true, sealed: 'sealed-1' } };
    const to = { S: { value: 'same', secret: true, sealed: 'sealed-2' } };
    const blind = diffConfig(from, to, sides, { compareSecrets: false });
    expect(blind.notCompared).toEqual([
      { key: 'S', from: '••••••', to: '••••••', secret: true, changed: false },
    ]);
    expect(blind.unchanged).toBe(0);
    // A different value gives exactly the same answer.
    const other = diffConfig(from, { S: { value: 'other', secret: true, sealed: 'sealed-3' } }, sides, {
      compareSecrets: false,
    });
    expect(other).toEqual(blind);
    // The same stored secret (kept from one version to the next) is unchanged without comparing.
    expect(diffConfig(from, { S: { ...from.S } }, sides, { compareSecrets: false }).unchanged).toBe(1);
    const reader = diffConfig(from, to, sides, { compareSecrets: true });
    expect(reader.unchanged).toBe(1);
    expect(reader.notCompared).toEqual([]);
    expect(sameEntries(from, to, { compareSecrets: false })).toBe(false);
    expect(sameEntries(from, to, { compareSecrets: true })).toBe(true);
  });
});
