import { describe, expect, it } from 'vitest';
import { type AutoscaleInput, decideScale } from './autoscale.ts';

const NOW = Date.UTC(2026, 0, 1);
const base = (
  over: Partial<AutoscaleInput> = {},
  policy: Partial<AutoscaleInput['policy']> = {},
): AutoscaleInput => ({
  policy: {
    minReplicas: 1,
    maxReplicas: 5,
    metric: 'rps',
    target: 20,
    cooldownSeconds: 30,
    lastScaleAt: null,
    ...policy,
  },
  replicas: 2,
  serving: 2,
  measured: 20,
  busy: null,
  now: NOW,
  ...over,
});

describe('decideScale (HPA rule: ceil(serving × measured / target), within min..max)', () => {
  it('scales up to what the load needs, never past the maximum', () => {
    expect(decideScale(base({ measured: 50 }))).toMatchObject({ action: 'scale_up', from: 2, to: 5 });
    expect(decideScale(base({ measured: 30 }))).toMatchObject({ action: 'scale_up', to: 3 });
    expect(decideScale(base({ replicas: 5, serving: 5, measured: 90 }))).toMatchObject({
      action: 'none',
      key: 'edge:at the maximum',
    });
  });

  it('scales down to the minimum when idle; stays within 10 % of the target', () => {
    expect(decideScale(base({ replicas: 4, serving: 4, measured: 0 }))).toMatchObject({
      action: 'scale_down',
      to: 1,
    });
    expect(decideScale(base({ measured: 21.5 }))).toMatchObject({ action: 'none', key: 'steady' });
  });

  it('waits for the cooldown after the last scale, then acts', () => {
    const cooling = base({ measured: 0 }, { lastScaleAt: NOW - 10_000 });
    expect(decideScale(cooling)).toMatchObject({ action: 'none', key: 'cooldown' });
    expect(decideScale(cooling).reason).toMatch(/cooling down until/);
    expect(decideScale({ ...cooling, now: NOW + 20_001 })).toMatchObject({ action: 'scale_down', to: 1 });
  });

  it('is blocked, with the reason, while a deployment runs; says why when nothing is measured', () => {
    const d = decideScale(base({ measured: 60, busy: 'deployment d1 is in progress' }));
    expect(d).toMatchObject({ action: 'blocked', to: 5 });
    expect(d.reason).toMatch(/deployment d1 is in progress/);
    expect(decideScale(base({ measured: null, unmeasured: 'first reading' }))).toMatchObject({
      action: 'none',
      key: 'unmeasured',
      reason: 'nothing measured yet (first reading)',
    });
  });

  it('brings a count outside the policy back inside it, even unmeasured', () => {
    expect(decideScale(base({ replicas: 8, serving: 8, measured: null }))).toMatchObject({
      action: 'scale_down',
      to: 5,
    });
    expect(decideScale(base({ replicas: 1, measured: null }, { minReplicas: 2 }))).toMatchObject({
      action: 'scale_up',
      to: 2,
    });
  });
});
