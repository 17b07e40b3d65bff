import { describe, expect, it } from 'vitest';
import { parseStrategyOptions, resolveQuantity } from './options.ts';

const errorsOf = (strategy: string, raw: unknown) => {
  const r = parseStrategyOptions(strategy, raw);
  if (r.ok) throw new Error('expected errors');
  return r.errors;
};

describe('parseStrategyOptions', () => {
  it('fills every default', () => {
    const common = {
      healthTimeoutSeconds: 120,
      waitTimeoutSeconds: 86_400,
      commandRetries: 1,
    };
    const analysis = {
      windowSeconds: 30,
      maxErrorRate: 0.05,
      maxP95Ms: 1000,
      minRequests: 20,
      minSamples: { errorRate: 20, p95Ms: 20 },
      intervalSeconds: 10,
      inconclusiveLimitSeconds: 300,
      onInconclusive: 'fail',
    };
    expect(parseStrategyOptions('blue-green', undefined)).toEqual({
      ok: true,
      strategy: 'blue-green',
      options: {
        ...common,
        analysis: { ...analysis, enabled: false },
        autoSwitch: true,
        rollbackWindowSeconds: 600,
        smokeCheck: false,
      },
    });
    expect(parseStrategyOptions('rolling', {})).toEqual({
      ok: true,
      strategy: 'rolling',
      options: {
        ...common,
        analysis: { ...analysis, enabled: false },
        maxSurge: 1,
        maxUnavailable: 0,
        pauseBetweenBatchesSeconds: 0,
      },
    });
    expect(parseStrategyOptions('canary', null)).toEqual({
      ok: true,
      strategy: 'canary',
      options: {
        ...common,
        analysis: { ...analysis, enabled: true },
        steps: [10, 25, 50, 100],
        stepDurationSeconds: 60,
        canaryReplicas: 1,
      },
    });
  });

  it('defaults autoSwitch to false on protected environments, and lets the request override it', () => {
    const p = parseStrategyOptions('blue-green', {}, { protected: true });
    expect(p.ok && p.options.autoSwitch).toBe(false);
    const o = parseStrategyOptions('blue-green', { autoSwitch: true }, { protected: true });
    expect(o.ok && o.options.autoSwitch).toBe(true);
  });

  it('accepts valid values', () => {
    const r = parseStrategyOptions('rolling', {
      maxSurge: '25%',
      maxUnavailable: 1,
      pauseBetweenBatchesSeconds: 'manual',
      analysis: { enabled: true, maxP95Ms: null, minRequests: 10 },
    });
    expect(r.ok && r.options).toMatchObject({
      maxSurge: '25%',
      maxUnavailable: 1,
      pauseBetweenBatchesSeconds: 'manual',
      analysis: { enabled: true, maxP95Ms: null, minRequests: 10, maxErrorRate: 0.05 },
    });
    const c = parseStrategyOptions('canary', { steps: [5, 50], stepDurationSeconds: 'manual' });
    // A plan that stops short of 100 % still ends fully promoted.
    expect(c.ok && c.options.steps).toEqual([5, 50, 100]);
    expect(c.ok && c.options.stepDurationSeconds).toBe('manual');
  });

  it('names the field of every error', () => {
    expect(errorsOf('red-black', {})).toEqual([
      { field: 'strategy', message: 'must be one of blue-green, rolling, canary' },
    ]);
    expect(errorsOf('canary', [1])).toEqual([{ field: 'options', message: 'must be an object' }]);
    expect(errorsOf('canary', { steps: [10, 25, 20, 100] })).toEqual([
      { field: 'options.steps[2]', message: 'must be greater than the previous weight (25)' },
    ]);
    expect(errorsOf('canary', { steps: [10, 0, 'x'] }).map((e) => e.field)).toEqual([
      'options.steps[1]',
      'options.steps[2]',
    ]);
    expect(errorsOf('canary', { steps: [] })[0]?.field).toBe('options.steps');
    expect(errorsOf('canary', { stepDurationSeconds: 0 })[0]).toEqual({
      field: 'options.stepDurationSeconds',
      message: "must be 'manual' or an integer from 1 to 86400",
    });
    expect(errorsOf('canary', { canaryReplicas: 1.5 })[0]?.field).toBe('options.canaryReplicas');
    expect(errorsOf('blue-green', { autoSwitch: 'yes' })[0]).toEqual({
      field: 'options.autoSwitch',
      message: 'must be true or false',
    });
    expect(errorsOf('blue-green', { rollbackWindowSeconds: -1 })[0]?.field).toBe(
      'options.rollbackWindowSeconds',
    );
    expect(errorsOf('blue-green', { healthTimeoutSeconds: 0 })[0]?.field).toBe(
      'options.healthTimeoutSeconds',
    );
    expect(errorsOf('rolling', { maxSurge: '150%' })[0]?.field).toBe('options.maxSurge');
    expect(errorsOf('rolling', { maxSurge: 0, maxUnavailable: '0%' })).toEqual([
      {
        field: 'options.maxUnavailable',
        message: 'maxSurge and maxUnavailable cannot both be 0: no instance could ever be replaced',
      },
    ]);
    expect(errorsOf('rolling', { pauseBetweenBatchesSeconds: 'later' })[0]?.field).toBe(
      'options.pauseBetweenBatchesSeconds',
    );
    expect(errorsOf('canary', { analysis: { maxErrorRate: 2 } })).toEqual([
      { field: 'options.analysis.maxErrorRate', message: 'must be a number from 0 to 1' },
    ]);
    expect(errorsOf('canary', { analysis: 'on' })[0]?.field).toBe('options.analysis');
    expect(errorsOf('canary', { analysis: { threshold: 1 } })[0]).toEqual({
      field: 'options.analysis.threshold',
      message: 'unknown option',
    });
  });

  it('rejects options of another strategy', () => {
    expect(errorsOf('blue-green', { steps: [10] })).toEqual([
      { field: 'options.steps', message: 'unknown option' },
    ]);
    expect(errorsOf('canary', { autoSwitch: true })[0]?.field).toBe('options.autoSwitch');
  });

  it('reports several errors at once', () => {
    expect(errorsOf('canary', { canaryReplicas: 0, waitTimeoutSeconds: 'x', extra: 1 })).toHaveLength(3);
  });
});

describe('resolveQuantity', () => {
  it('rounds surge up and unavailability down', () => {
    expect(resolveQuantity('25%', 3, 'up')).toBe(1);
    expect(resolveQuantity('25%', 3, 'down')).toBe(0);
    expect(resolveQuantity('50%', 4, 'up')).toBe(2);
    expect(resolveQuantity(2, 10, 'down')).toBe(2);
  });
});
