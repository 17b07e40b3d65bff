import type { Environment } from '@qubot/api-contract';
import { describe, expect, it } from 'vitest';
import { draftOf, settingsChanges, settingsPayload } from './environment-settings-form';

const env = (overrides: Partial<Environment> = {}): Environment => ({
  name: 'staging',
  position: 1,
  protected: false,
  requiresApproval: false,
  address: null,
  live: null,
  previous: null,
  activeColor: null,
  traffic: [],
  instances: [],
  activeDeployment: null,
  replicas: 2,
  analysisOnInconclusive: null,
  updatedAt: '2026-11-30T12:00:00.000Z',
  ...overrides,
});

describe('settingsChanges', () => {
  it('lists what changes, for the confirmation', () => {
    const before = {
      protected: false,
      requiresApproval: false,
      replicas: 2,
      analysisOnInconclusive: null,
      trafficProvider: 'node' as const,
    };
    expect(settingsChanges(before, before)).toEqual([]);
    expect(
      settingsChanges(before, {
        protected: true,
        requiresApproval: true,
        replicas: 3,
        analysisOnInconclusive: 'wait',
        trafficProvider: 'haproxy',
      }),
    ).toEqual([
      'protected: no → yes',
      'requires approval: no → yes',
      'replicas: 2 → 3',
      'inconclusive analysis: follow protection → wait for a person',
      'traffic provider: Node router (embedded) → HAProxy (now: the new router takes over the same address)',
    ]);
  });
});

describe('settingsPayload', () => {
  it('sends only what changed: the inconclusive-analysis choice, and null to follow protection again', () => {
    const plain = env();
    expect(
      settingsPayload(plain, { ...draftOf(plain), analysisOnInconclusive: 'wait' }, 'people decide'),
    ).toEqual({
      env: 'staging',
      protected: undefined,
      requiresApproval: undefined,
      replicas: undefined,
      analysisOnInconclusive: 'wait',
      trafficProvider: undefined,
      reason: 'people decide',
    });
    // The provider: sent only when changed; a server without the field reads as the Node router.
    expect(settingsPayload(plain, { ...draftOf(plain), trafficProvider: 'haproxy' }, 'r')).toMatchObject({
      trafficProvider: 'haproxy',
      analysisOnInconclusive: undefined,
    });
    expect(draftOf(env({ trafficProvider: 'haproxy' })).trafficProvider).toBe('haproxy');
    expect(draftOf(plain).trafficProvider).toBe('node');
    const waiting = env({ analysisOnInconclusive: 'wait' });
    expect(draftOf(waiting).analysisOnInconclusive).toBe('wait');
    expect(
      settingsPayload(waiting, { ...draftOf(waiting), analysisOnInconclusive: null }, 'r'),
    ).toMatchObject({
      analysisOnInconclusive: null,
    });
    // Unchanged: left out (undefined is dropped from the request body).
    expect(settingsPayload(waiting, { ...draftOf(waiting), replicas: 3 }, 'r')).toMatchObject({
      replicas: 3,
      analysisOnInconclusive: undefined,
    });
    // A server that does not send the field reads as "follow protection".
    const { analysisOnInconclusive: _, ...older } = plain;
    expect(draftOf(older as Environment).analysisOnInconclusive).toBeNull();
  });
});
