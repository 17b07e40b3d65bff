import { describe, expect, it } from 'vitest';
import {
  analysisSeries,
  availableControls,
  failedCheck,
  failureRate,
  formatMetricTick,
  formatMetricValue,
  formatThreshold,
  metricLabel,
  parseAnalysis,
  parseProgress,
  progressDisplay,
  progressSummary,
} from './deployment-utils';

describe('parseProgress', () => {
  it('reads instance counts and derives a percentage', () => {
    const view = parseProgress({ instancesReady: 3, instancesTotal: 4 });
    expect(view).toMatchObject({ percent: 75, instancesReady: 3, instancesTotal: 4 });
    expect(progressSummary(view)).toBe('3/4 instances ready');
  });
  it('reads canary step and weight, including 0–1 weights', () => {
    const view = parseProgress({ step: 2, totalSteps: 4, canaryWeight: 0.25 });
    expect(view.newTrafficPercent).toBe(25);
    expect(progressSummary(view)).toBe('step 2 of 4 · 25 % traffic on new');
  });
  it('falls back to finished steps, and to nothing', () => {
    expect(parseProgress(null, [{ status: 'succeeded' }, { status: 'running' }]).percent).toBe(50);
    expect(parseProgress('garbage')).toMatchObject({ percent: null, weights: [] });
    expect(progressSummary(parseProgress(undefined))).toBeNull();
  });
  it('clamps an explicit percentage', () => {
    expect(parseProgress({ percent: 140 }).percent).toBe(100);
    expect(parseProgress({ percent: 0.5 }).percent).toBe(50);
  });
});

describe('parseAnalysis', () => {
  it('reads a flat list of results', () => {
    const rows = parseAnalysis([
      { step: 1, metric: 'errorRate', value: 0.4, threshold: 1, passed: true, at: '2025-01-01T10:00:00Z' },
      { step: 2, metric: 'p95LatencyMs', value: 900, max: 500, result: 'failed', message: 'too slow' },
      { step: 2, metric: 'requestCount', value: 12, min: 50, passed: false },
    ]);
    expect(rows.map((r) => [r.metric, r.value, r.threshold, r.bound, r.passed])).toEqual([
      ['errorRate', 0.4, 1, 'max', true],
      ['p95LatencyMs', 900, 500, 'max', false],
      ['requestCount', 12, 50, 'min', false],
    ]);
    expect(rows[1]?.message).toBe('too slow');
    expect(rows[0]?.step).toBe('1');
  });
  it('expands per-entry metric maps inside { results }', () => {
    const rows = parseAnalysis({
      results: [
        {
          step: 'canary-10',
          passed: true,
          metrics: { errorRate: { value: 0.1, threshold: 1 }, requests: 120 },
        },
      ],
    });
    expect(rows.map((r) => [r.step, r.metric, r.value, r.passed])).toEqual([
      ['canary-10', 'errorRate', 0.1, true],
      ['canary-10', 'requests', 120, true],
    ]);
  });
  it("keeps the engine's own bound, so a health minimum is not shown as a maximum", () => {
    const rows = parseAnalysis([
      { step: 'weight-50', metric: 'health', value: 1, threshold: 1, bound: 'min', passed: true },
      { step: 'weight-50', metric: 'errorRate', value: 0.32, threshold: 0.05, bound: 'max', passed: false },
    ]);
    expect(rows.map((r) => r.bound)).toEqual(['min', 'max']);
    expect(failedCheck(rows)?.metric).toBe('errorRate');
    expect(failedCheck(rows.slice(0, 1))).toBeNull();
  });
  it('yields nothing for unknown shapes', () => {
    expect(parseAnalysis(null)).toEqual([]);
    expect(parseAnalysis({ foo: 1 })).toEqual([]);
    expect(parseAnalysis([1, 'x'])).toEqual([]);
  });
});

describe('analysisSeries', () => {
  it('groups numeric values per metric with their threshold', () => {
    const series = analysisSeries(
      parseAnalysis([
        { step: 1, metric: 'errorRate', value: 0.2, threshold: 1 },
        { step: 1, metric: 'p95', value: 100 },
        { step: 2, metric: 'errorRate', value: 0.5 },
        { step: 3, metric: 'errorRate', value: null },
      ]),
    );
    expect(series.map((s) => s.metric)).toEqual(['errorRate', 'p95']);
    expect(series[0]).toMatchObject({ threshold: 1, bound: 'max' });
    expect(series[0]?.points.map((p) => [p.label, p.value])).toEqual([
      ['step 1', 0.2],
      ['step 2', 0.5],
    ]);
  });
});

describe('small helpers', () => {
  it('computes failure rate, labels and controls', () => {
    expect(failureRate({ requests: 200, failed: 3 })).toBe(1.5);
    expect(failureRate({ requests: 0, failed: 0 })).toBeNull();
    expect(metricLabel('p95LatencyMs')).toBe('P95 latency ms');
    expect(metricLabel('error_rate')).toBe('Error rate');
    expect(metricLabel('p95Ms')).toBe('P95 latency');
    expect(formatMetricValue('errorRate', 0.3209876)).toBe('32.10 %');
    expect(formatMetricValue('p95Ms', 5.6712)).toBe('5.67 ms');
    expect(formatMetricValue('minRequests', 1620)).toBe('1,620');
    expect(formatMetricValue('errorRate', null)).toBe('—');
    expect(formatThreshold({ metric: 'errorRate', threshold: 0.05, bound: 'max' })).toBe('≤ 5.00 %');
    expect(formatThreshold({ metric: 'minRequests', threshold: 20, bound: 'min' })).toBe('≥ 20');
    expect(formatThreshold({ metric: 'health', threshold: null, bound: null })).toBe('—');
    expect(availableControls({ status: 'running', waitingFor: null })).toEqual({
      pause: true,
      resume: false,
      abort: true,
      advance: true,
      approve: false,
    });
    expect(availableControls({ status: 'paused', waitingFor: 'approval' })).toMatchObject({
      approve: true,
      advance: false,
      resume: false,
    });
    expect(availableControls({ status: 'paused', waitingFor: null })).toMatchObject({
      resume: true,
      pause: false,
    });
    expect(Object.values(availableControls({ status: 'succeeded', waitingFor: null })).some(Boolean)).toBe(
      false,
    );
  });
});

describe('progressDisplay', () => {
  it('shows the percentage while the deployment runs', () => {
    expect(progressDisplay('running', { percent: 83 })).toEqual({
      kind: 'percent',
      percent: 83,
      text: '83 %',
    });
    expect(progressDisplay('paused', { percent: null })).toEqual({ kind: 'unknown', text: '—' });
  });
  it('shows the outcome, not a percentage, once it finished', () => {
    expect(progressDisplay('rolled_back', { percent: 83 })).toEqual({
      kind: 'outcome',
      text: 'Rolled back',
      tone: 'warn',
    });
    expect(progressDisplay('failed', { percent: 40 })).toMatchObject({
      kind: 'outcome',
      text: 'Failed',
      tone: 'bad',
    });
    expect(progressDisplay('aborted', { percent: null })).toMatchObject({ kind: 'outcome', text: 'Aborted' });
    expect(progressDisplay('succeeded', { percent: 100 })).toMatchObject({
      kind: 'outcome',
      text: 'Succeeded',
      tone: 'ok',
    });
  });
});

describe('chart units match the table', () => {
  it('formats axis ticks in the metric’s unit', () => {
    expect(formatMetricTick('errorRate', 0.3138)).toBe('31.4 %');
    expect(formatMetricTick('errorRate', 0.05)).toBe('5 %');
    expect(formatMetricTick('p95Ms', 251.4)).toBe('251 ms');
    expect(formatMetricTick('minRequests', 1200)).toBe('1,200');
  });
  it('shows a raw error-rate fraction as the table’s percentage', () => {
    expect(formatMetricValue('errorRate', 0.3138)).toBe('31.38 %');
    expect(formatThreshold({ metric: 'errorRate', threshold: 0.05, bound: 'max' })).toBe('≤ 5.00 %');
  });
});
