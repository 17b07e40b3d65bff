import { describe, expect, it } from 'vitest';
import { settingsChanges } from './environment-settings-form';

describe('settingsChanges', () => {
  it('lists what changes, for the confirmation', () => {
    const before = { protected: false, requiresApproval: false, replicas: 2 };
    expect(settingsChanges(before, before)).toEqual([]);
    expect(settingsChanges(before, { protected: true, requiresApproval: true, replicas: 3 })).toEqual([
      'protected: no → yes',
      'requires approval: no → yes',
      'replicas: 2 → 3',
    ]);
  });
});
