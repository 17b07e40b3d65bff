import type { StepStatus } from '@qubot/api-contract';
import { describe, expect, it } from 'vitest';
import { deploymentFixture } from '../../../../api/src/views/view-fixtures.ts';
import {
  analysisRows,
  analysisSeries,
  failedCheck,
  failureRate,
  formatMetricTick,
  formatMetricValue,
  formatThreshold,
  holdSentence,
  humanizeMessage,
  metricLabel,
  newPoolOf,
  progressDisplay,
  rolloutProgress,
  stepSentence,
  stepStatusView,
  waitingSentence,
} from './deployment-utils';
import { progressFixture } from './progress-fixture';

const steps = (
  statuses: StepStatus[],
  extra: Partial<Record<number, { message: string; startedAt: string }>> = {},
) =>
  statuses.map((status, i) => ({
    position: i + 1,
    name: `Step ${i + 1}`,
    status,
    message: extra[i]?.message ?? null,
    startedAt: extra[i]?.startedAt ?? null,
  }));

describe('rolloutProgress', () => {
  it('reads a canary as the server sends it: step 3 of 7, one of two instances, 10 % of traffic', () => {
    const d = deploymentFixture({ input: canaryInput, drive: (sim) => sim.start().run({ timers: false }) });
    const source = {
      status: d.status,
      waitingFor: d.waitingFor,
      progress: d.progress,
      version: d.release.version,
    };
    const started = Date.parse(d.steps[2]?.startedAt ?? '');
    const view = rolloutProgress(source, d.steps, started);
    expect(view).toMatchObject({
      stepNumber: 3,
      totalSteps: 7,
      stepName: 'Traffic 10%',
      instancesReady: 1,
      instancesDesired: 2,
      newTrafficPercent: 10,
      // One of the six steps that are not skipped is done; the 60 s hold has just begun.
      percent: 16,
      holdUntil: started + 60_000,
    });
    expect(stepSentence(view)).toBe('Step 3 of 7: Traffic 10%');
    // The pipeline card has no steps: it reads the same from the progress alone.
    expect(rolloutProgress(source, null, started)).toMatchObject({
      stepNumber: 3,
      totalSteps: 7,
      percent: 28,
    });
  });
  it('numbers steps from 1 and reads instances and traffic on the new release', () => {
    const progress = progressFixture('1.1.0', {
      currentStep: 1,
      totalSteps: 4,
      instancesReady: 1,
      weights: { blue: 75, green: 25 },
    });
    const view = rolloutProgress(
      { status: 'running', waitingFor: null, progress, version: '1.1.0' },
      steps(['succeeded', 'running', 'pending', 'pending']),
      0,
    );
    expect(view).toMatchObject({
      stepNumber: 2,
      totalSteps: 4,
      stepName: 'Step 2',
      instancesReady: 1,
      instancesDesired: 2,
      newTrafficPercent: 25,
      percent: 25,
    });
    expect(stepSentence(view)).toBe('Step 2 of 4: Step 2');
  });
  it('does not count a skipped approval as done', () => {
    const progress = progressFixture('1.1.0', { currentStep: 1, totalSteps: 3 });
    const view = rolloutProgress(
      { status: 'running', waitingFor: null, progress, version: '1.1.0' },
      steps(['skipped', 'running', 'pending']),
      0,
    );
    expect(view.percent).toBe(0);
  });
  it('moves through a timed hold and counts it down, from the typed progress.holdUntil', () => {
    const start = Date.parse('2026-11-30T14:37:04.000Z');
    const until = start + 60_000;
    const progress = progressFixture('1.1.0', {
      currentStep: 0,
      totalSteps: 2,
      holdUntil: new Date(until).toISOString(),
    });
    // The step's words are for people: the countdown does not read them.
    const held = steps(['running', 'pending'], {
      0: {
        message: 'holding 60 s (until 14:38:04 UTC) while the analysis measures',
        startedAt: new Date(start).toISOString(),
      },
    });
    const source = { status: 'running', waitingFor: null, progress, version: '1.1.0' };
    expect(rolloutProgress(source, held, start).percent).toBe(0);
    const half = rolloutProgress(source, held, start + 30_000);
    expect(half).toMatchObject({ percent: 25, holdUntil: until });
    expect(holdSentence(until, start + 30_000)).toMatch(/^holding until \d{2}:\d{2}:\d{2} · 30 s left$/);
    expect(holdSentence(until, start)).toMatch(/1 min 0 s left$/);
  });
  it('no typed hold, no countdown: a hold sentence in the step message is not parsed', () => {
    const progress = progressFixture('1.1.0', { currentStep: 0, totalSteps: 2, holdUntil: null });
    const held = steps(['running', 'pending'], {
      0: { message: 'holding until 2026-11-30T14:38:04.000Z', startedAt: '2026-11-30T14:37:04.000Z' },
    });
    const source = { status: 'running', waitingFor: null, progress, version: '1.1.0' };
    expect(rolloutProgress(source, held, Date.parse('2026-11-30T14:37:34.000Z'))).toMatchObject({
      holdUntil: null,
      percent: 0,
    });
    // The pipeline card has no steps: it counts down from the progress alone.
    const card = rolloutProgress(
      { ...source, progress: { ...progress, holdUntil: '2026-11-30T14:38:04.000Z' } },
      null,
      0,
    );
    expect(card.holdUntil).toBe(Date.parse('2026-11-30T14:38:04.000Z'));
  });
  it('shows who it waits for instead of a percentage', () => {
    const waiting = waitingSentence('approval', { protected: true, actor: 'alice' });
    expect(waiting).toBe('Waiting for approval from a release-manager or admin other than alice');
    expect(progressDisplay('paused', { percent: 71 }, waiting)).toEqual({ kind: 'waiting', text: waiting });
    expect(waitingSentence('switch', { protected: true, actor: 'a' })).toContain(
      'Waiting for traffic switch',
    );
    expect(waitingSentence('advance', { protected: false, actor: 'a' })).toBe(
      'Waiting for a deployer, release-manager or admin to advance to the next step',
    );
    expect(waitingSentence(null, { protected: false, actor: 'a' })).toBeNull();
  });
  it('finds the new pool by version and falls back to the step count without steps', () => {
    const progress = progressFixture('1.1.0', {
      currentStep: 2,
      totalSteps: 4,
      weights: { blue: 0, green: 100 },
    });
    expect(newPoolOf({ progress, version: '1.1.0' })).toBe('green');
    const view = rolloutProgress(
      { status: 'running', waitingFor: null, progress, version: '1.1.0' },
      null,
      0,
    );
    expect(view).toMatchObject({ stepNumber: 3, percent: 50, newTrafficPercent: 100, stepName: null });
  });
});

describe('humanizeMessage and stepStatusView', () => {
  it('turns machine text into words', () => {
    expect(humanizeMessage('holding until 2026-11-30T14:38:04.415Z')).toMatch(
      /^holding until \d{2}:\d{2}:\d{2}$/,
    );
    expect(humanizeMessage('analysis failed: errorRate 0.4359 > max 0.05')).toBe(
      'analysis failed: error rate 43.6 % > max 5 %',
    );
    expect(humanizeMessage('p95Ms 812.4 > max 500')).toBe('p95 latency 812 ms > max 500 ms');
    expect(humanizeMessage('batch 2 of 3 healthy')).toBe('batch 2 of 3 healthy');
  });
  it('keeps a step badge consistent with the deployment', () => {
    expect(stepStatusView('running', 'paused', 'approval')).toEqual({ tone: 'paused', label: 'Waiting' });
    expect(stepStatusView('running', 'paused', null)).toEqual({ tone: 'paused', label: 'Paused' });
    expect(stepStatusView('skipped', 'running', null)).toEqual({ tone: 'skipped', label: 'Skipped' });
    expect(stepStatusView('running', 'running', null)).toEqual({ tone: 'running', label: 'Running' });
  });
});

// Analysis as the engine records it: a canary driven through packages/core, seen through views.ts.
const canaryInput = { strategy: 'canary' as const, version: '1.1.0', fromVersion: '1.0.0', replicas: 2 };
const passedCanary = () =>
  deploymentFixture({ input: canaryInput, drive: (sim) => sim.start().run() }).analysis;
const failedCanary = () =>
  deploymentFixture({
    input: canaryInput,
    drive: (sim) => {
      sim.responder = (cmd) =>
        cmd.kind === 'collectMetrics'
          ? { type: 'metrics', commandId: cmd.id, requests: 200, errors: 80, p95Ms: 40 }
          : 'default';
      sim.start().run();
    },
  });

describe('analysisRows', () => {
  it("reads the engine's results with their own bound and verdict", () => {
    const rows = analysisRows(passedCanary());
    expect(rows.length).toBeGreaterThan(0);
    expect(new Set(rows.map((r) => r.metric))).toEqual(new Set(['minRequests', 'errorRate', 'p95Ms']));
    // A minimum is not shown as a maximum.
    expect(rows.find((r) => r.metric === 'minRequests')?.bound).toBe('min');
    expect(rows.find((r) => r.metric === 'errorRate')).toMatchObject({ bound: 'max', threshold: 0.05 });
    expect(rows.every((r) => r.verdict === 'passed' && r.passed === true && r.step !== null)).toBe(true);
    expect(failedCheck(rows)).toBeNull();
  });
  it('finds the check that stopped a deployment', () => {
    const d = failedCanary();
    expect(d.status).toBe('rolled_back');
    const failed = failedCheck(analysisRows(d.analysis));
    expect(failed).toMatchObject({ metric: 'errorRate', verdict: 'failed', passed: false, value: 0.4 });
  });
});

describe('analysisSeries', () => {
  it('groups values per metric with their threshold, in measurement order', () => {
    const series = analysisSeries(analysisRows(passedCanary()));
    const errorRate = series.find((x) => x.metric === 'errorRate');
    expect(errorRate).toMatchObject({ threshold: 0.05, bound: 'max' });
    expect(errorRate?.points.every((p) => p.value === 0.005 && p.label.startsWith('step '))).toBe(true);
    expect(errorRate?.points.map((p) => p.index)).toEqual(errorRate?.points.map((_, i) => i + 1));
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
