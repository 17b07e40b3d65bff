import type { AnalysisResult } from '@qubot/api-contract';
import { describe, expect, it } from 'vitest';
import { analysisTimeSeries, latestPerStep, stepLabel } from './analysis-chart-utils';

const T0 = Date.UTC(2026, 10, 30, 12, 0, 0);
const row = (over: Partial<AnalysisResult>): AnalysisResult => ({
  step: 'weight-10',
  pool: 'green',
  metric: 'errorRate',
  value: 0.01,
  threshold: 0.05,
  bound: 'max',
  verdict: 'passed',
  passed: true,
  samples: 40,
  minSamples: 20,
  baseline: 0.002,
  at: new Date(T0 + 10_000).toISOString(),
  since: T0,
  until: T0 + 10_000,
  ...over,
});

describe('analysisTimeSeries', () => {
  it('groups measurements per step and check, canary beside the stable pool, seconds into the step', () => {
    const rows = [
      row({
        metric: 'minRequests',
        value: 8,
        threshold: 20,
        bound: 'min',
        verdict: 'inconclusive',
        baseline: 70,
      }),
      row({ value: 0.125, verdict: 'inconclusive', samples: 8 }),
      row({ metric: 'p95Ms', value: 40, threshold: 1000, verdict: 'inconclusive', baseline: 35 }),
      row({
        value: 0.43,
        verdict: 'failed',
        samples: 30,
        until: T0 + 20_000,
        at: new Date(T0 + 20_000).toISOString(),
      }),
      row({ step: 'weight-25', metric: 'health', value: 1, threshold: 1, bound: 'min' }),
    ];
    const series = analysisTimeSeries(rows);
    expect(series.map((s) => [s.step, s.label, s.verdict])).toEqual([['weight-10', 'Traffic 10%', 'failed']]);
    const [first] = series;
    expect(first?.checks.map((c) => c.metric)).toEqual(['errorRate', 'p95Ms', 'minRequests']);
    expect(first?.checks[0]?.points).toEqual([
      { t: 10, label: '10 s', canary: 0.125, stable: 0.002, verdict: 'inconclusive', samples: 8 },
      { t: 20, label: '20 s', canary: 0.43, stable: 0.002, verdict: 'failed', samples: 30 },
    ]);
    expect(first?.checks[0]).toMatchObject({ threshold: 0.05, bound: 'max', minSamples: 20 });
  });

  it('a silent step is inconclusive, with no canary value to draw', () => {
    const [s] = analysisTimeSeries([
      row({ value: null, baseline: null, verdict: 'inconclusive', samples: 0 }),
    ]);
    expect(s?.verdict).toBe('inconclusive');
    expect(s?.checks[0]?.points[0]).toMatchObject({ canary: null, stable: null });
  });
});

describe('latestPerStep', () => {
  it('keeps the rows of each step’s last measurement', () => {
    const rows = [
      { step: 'a', at: '1', k: 1 },
      { step: 'a', at: '2', k: 2 },
      { step: 'a', at: '2', k: 3 },
      { step: 'b', at: '1', k: 4 },
    ];
    expect(latestPerStep(rows).map((r) => r.k)).toEqual([2, 3, 4]);
  });
});

describe('stepLabel', () => {
  it('names steps by their key', () => {
    expect(['weight-25', 'batch-3', 'verify', 'other'].map(stepLabel)).toEqual([
      'Traffic 25%',
      'Batch 3',
      'After the switch',
      'other',
    ]);
  });
});
