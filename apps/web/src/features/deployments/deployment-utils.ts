import type { AnalysisResult, DeploymentProgress, Step } from '@qubot/api-contract';
import { formatNumber, formatPercent } from '../../lib/format-utils';
import { statusLabel, statusTone } from '../../lib/status-utils';

type ProgressSource = {
  status: string;
  waitingFor: string | null;
  progress: DeploymentProgress;
  /** The release being deployed: the pool running it is the "new" one. */
  version: string;
};

export interface RolloutProgress {
  /** The step in progress (or last run), 1-based; null before the first starts. */
  stepNumber: number | null;
  totalSteps: number;
  stepName: string | null;
  /** Overall 0–100 from the steps (skipped ones left out) and the elapsed share of a hold. */
  percent: number | null;
  instancesReady: number;
  instancesDesired: number;
  /** Share of traffic on the new release, 0–100. */
  newTrafficPercent: number;
  /** Epoch ms a timed hold ends (canary pause, bake time), when one runs. */
  holdUntil: number | null;
}

/** When the running step's timed hold ends: the engine's typed `progress.holdUntil`. */
export function holdUntilOf(progress: Pick<DeploymentProgress, 'holdUntil'>): number | null {
  if (!progress.holdUntil) return null;
  const t = Date.parse(progress.holdUntil);
  return Number.isNaN(t) ? null : t;
}

/** The pool that runs the release being deployed (the other one is the one being replaced). */
export function newPoolOf(source: Pick<ProgressSource, 'progress' | 'version'>): 'blue' | 'green' | null {
  const { pools, activeColor } = source.progress;
  const matches = (['blue', 'green'] as const).filter((c) => pools[c].version === source.version);
  if (matches.length === 1) return matches[0] ?? null;
  if (matches.length === 2) return activeColor ?? 'blue';
  return null;
}

/**
 * Where a rollout is, from the typed progress the engine reports and (on the deployment page)
 * its steps: step numbers are 1-based, a skipped step is neither done nor to do, and a timed hold
 * moves the bar as it elapses.
 */
export function rolloutProgress(
  source: ProgressSource,
  steps: readonly Pick<Step, 'status' | 'message' | 'startedAt' | 'name' | 'position'>[] | null,
  now: number,
): RolloutProgress {
  const p = source.progress;
  const ordered = steps ? [...steps].sort((a, b) => a.position - b.position) : null;
  const current = p.currentStep !== null && ordered ? (ordered[p.currentStep] ?? null) : null;
  const holdUntil = holdUntilOf(p);
  const newPool = newPoolOf(source);
  let percent: number | null = null;
  if (ordered && ordered.length > 0) {
    const countable = ordered.filter((s) => s.status !== 'skipped');
    const done = countable.filter((s) => s.status === 'succeeded').length;
    let partial = 0;
    const running = countable.find((s) => s.status === 'running');
    if (running?.startedAt && holdUntil) {
      const start = Date.parse(running.startedAt);
      if (holdUntil > start) partial = Math.min(1, Math.max(0, (now - start) / (holdUntil - start)));
    }
    percent = countable.length ? ((done + partial) / countable.length) * 100 : null;
  } else if (p.currentStep !== null && p.totalSteps > 0) {
    percent = (p.currentStep / p.totalSteps) * 100;
  }
  return {
    stepNumber: p.currentStep === null ? null : p.currentStep + 1,
    totalSteps: ordered ? ordered.length : p.totalSteps,
    stepName: current?.name ?? null,
    percent: percent === null ? null : Math.max(0, Math.min(100, Math.floor(percent))),
    instancesReady: p.instancesReady,
    instancesDesired: p.instancesDesired,
    newTrafficPercent: newPool ? p.weights[newPool] : 0,
    holdUntil,
  };
}

/** "Step 2 of 5: Canary 25 %". */
export function stepSentence(view: Pick<RolloutProgress, 'stepNumber' | 'totalSteps' | 'stepName'>) {
  if (view.stepNumber === null || view.totalSteps === 0) return null;
  return `Step ${view.stepNumber} of ${view.totalSteps}${view.stepName ? `: ${view.stepName}` : ''}`;
}

/** "14:38:04" in the viewer's time zone. */
export function clockTime(ms: number): string {
  return new Date(ms).toLocaleTimeString('en-GB', { hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

/** "holding until 14:38:04 · 23 s left", counting down with `now`. */
export function holdSentence(holdUntil: number, now: number): string {
  const left = Math.max(0, Math.ceil((holdUntil - now) / 1000));
  const m = Math.floor(left / 60);
  const s = left % 60;
  return `holding until ${clockTime(holdUntil)} · ${m > 0 ? `${m} min ${s} s` : `${s} s`} left`;
}

/**
 * Who the deployment waits for, in place of a percentage: only a person can move it on.
 * Keeps the words of the status line ("Waiting for approval") and names the roles.
 */
export function waitingSentence(
  waitingFor: string | null,
  context: { protected: boolean; actor: string },
): string | null {
  if (!waitingFor) return null;
  const deciders = context.protected ? 'a release-manager or admin' : 'a deployer, release-manager or admin';
  switch (waitingFor) {
    case 'approval':
      return `Waiting for approval from a release-manager or admin other than ${context.actor}`;
    case 'switch':
      return `Waiting for traffic switch by a release-manager or admin`;
    case 'advance':
      return `Waiting for ${deciders} to advance to the next step`;
    default:
      return `Waiting for ${waitingFor}`;
  }
}

const METRIC_WORDS: Record<string, string> = {
  errorRate: 'error rate',
  p95Ms: 'p95 latency',
  minRequests: 'requests',
  health: 'healthy instances',
};

/**
 * Engine text as people read it: ISO times become clock times, and raw comparisons such as
 * "errorRate 0.4359 > max 0.05" become "error rate 43.6 % > max 5 %".
 */
export function humanizeMessage(message: string): string {
  return message
    .replace(/\b(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z)/g, (iso) => {
      const t = Date.parse(iso);
      return Number.isNaN(t) ? iso : clockTime(t);
    })
    .replace(
      /\b(errorRate|p95Ms|minRequests|health) (-?\d+(?:\.\d+)?) ([<>]=?|≤|≥) (max|min) (-?\d+(?:\.\d+)?)/g,
      (_all, metric: string, value: string, op: string, bound: string, threshold: string) =>
        `${METRIC_WORDS[metric] ?? metric} ${shortMetric(metric, Number(value))} ${op} ${bound} ${shortMetric(metric, Number(threshold))}`,
    );
}

function shortMetric(metric: string, value: number): string {
  if (metric === 'errorRate') return `${Math.round(value * 1000) / 10} %`;
  if (metric === 'p95Ms') return `${Math.round(value)} ms`;
  return formatNumber(value);
}

export type ProgressDisplay =
  /** Still going: the percentage, for a bar. */
  | { kind: 'percent'; percent: number; text: string }
  /**
   * Finished: the outcome. A rolled-back deployment stopped at "83 %" is not 83 % done, so
   * no percentage and no bar; `tone` colours the text like the status badge.
   */
  | { kind: 'outcome'; text: string; tone: 'ok' | 'bad' | 'warn' | 'active' | 'muted' }
  /** Only a person can move it on: who, instead of a percentage that does not move. */
  | { kind: 'waiting'; text: string }
  | { kind: 'unknown'; text: string };

const FINISHED = ['succeeded', 'failed', 'rolled_back', 'aborted'];

/** What to show as a deployment's progress: a percentage while it runs, its outcome once it ended. */
export function progressDisplay(
  status: string,
  view: Pick<RolloutProgress, 'percent'>,
  waiting: string | null = null,
): ProgressDisplay {
  if (FINISHED.includes(status))
    return { kind: 'outcome', text: statusLabel(status), tone: statusTone(status) };
  if (waiting) return { kind: 'waiting', text: waiting };
  if (view.percent === null) return { kind: 'unknown', text: '—' };
  return { kind: 'percent', percent: view.percent, text: `${view.percent} %` };
}

export interface AnalysisRow {
  key: string;
  at: string | null;
  step: string | null;
  metric: string;
  value: number | null;
  threshold: number | null;
  /** How value is compared with threshold: max (value must stay ≤) or min (value must reach ≥). */
  bound: 'max' | 'min' | null;
  passed: boolean | null;
  /** `inconclusive`: too few samples to pass or fail (then `passed` is null). */
  verdict: 'passed' | 'failed' | 'inconclusive' | null;
}

/** The deployment's analysis results (the engine's typed `analysis`) as table rows, in order. */
export function analysisRows(analysis: readonly AnalysisResult[]): AnalysisRow[] {
  return analysis.map((r, i) => ({
    key: `${i}-${r.metric}`,
    at: r.at,
    step: r.step === '' ? null : r.step,
    metric: r.metric,
    value: r.value,
    threshold: r.threshold,
    bound: r.bound,
    // Too few samples is neither a pass nor a failure.
    passed: r.verdict === 'inconclusive' ? null : r.passed,
    verdict: r.verdict,
  }));
}

export interface MetricSeries {
  metric: string;
  threshold: number | null;
  bound: 'max' | 'min' | null;
  points: { index: number; label: string; value: number; passed: boolean | null }[];
}

/** One series per metric with numeric values, in measurement order, for charting. */
export function analysisSeries(rows: readonly AnalysisRow[]): MetricSeries[] {
  const byMetric = new Map<string, MetricSeries>();
  for (const row of rows) {
    if (row.value === null) continue;
    let series = byMetric.get(row.metric);
    if (!series) {
      series = { metric: row.metric, threshold: row.threshold, bound: row.bound, points: [] };
      byMetric.set(row.metric, series);
    }
    if (series.threshold === null && row.threshold !== null) series.threshold = row.threshold;
    const index = series.points.length + 1;
    const label = row.step !== null ? `step ${row.step}` : row.at ? row.at.slice(11, 19) : `#${index}`;
    series.points.push({ index, label, value: row.value, passed: row.passed });
  }
  return [...byMetric.values()];
}

export function failureRate(traffic: { requests: number; failed: number }): number | null {
  if (!traffic.requests) return null;
  return (traffic.failed / traffic.requests) * 100;
}

/** Names for the engine's own metrics (packages/core `AnalysisMetric`); others are spelled out. */
const METRIC_LABELS: Record<string, string> = {
  errorRate: 'Error rate',
  p95Ms: 'P95 latency',
  minRequests: 'Requests',
  health: 'Healthy instances',
};

export function metricLabel(metric: string): string {
  const known = METRIC_LABELS[metric];
  if (known) return known;
  const spaced = metric
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replaceAll('_', ' ')
    .toLowerCase();
  return spaced.charAt(0).toUpperCase() + spaced.slice(1);
}

/**
 * A measured value or threshold in the metric's unit: error rates are fractions (0–1) shown as
 * percentages, latencies in milliseconds, counts as numbers.
 */
export function formatMetricValue(metric: string, value: number | null): string {
  if (value === null || !Number.isFinite(value)) return '—';
  if (/error.?rate/i.test(metric)) return formatPercent(value * 100, 2);
  if (/ms$|latency/i.test(metric)) return `${formatNumber(Math.round(value * 100) / 100)} ms`;
  return formatNumber(value);
}

/**
 * A short axis tick in the metric's unit (same units as formatMetricValue, fewer digits):
 * "31 %", "12.5 %", "250 ms", "1,200".
 */
export function formatMetricTick(metric: string, value: number): string {
  if (!Number.isFinite(value)) return '';
  const round1 = (n: number) => Math.round(n * 10) / 10;
  if (/error.?rate/i.test(metric)) return `${round1(value * 100)} %`;
  if (/ms$|latency/i.test(metric)) return `${formatNumber(Math.round(value))} ms`;
  return formatNumber(round1(value));
}

/** "≤ 5.00 %", "≥ 20", or "—" without a threshold. */
export function formatThreshold(row: Pick<AnalysisRow, 'metric' | 'threshold' | 'bound'>): string {
  if (row.threshold === null) return '—';
  return `${row.bound === 'min' ? '≥' : '≤'} ${formatMetricValue(row.metric, row.threshold)}`;
}

/** The check that stopped the deployment: the first failed measurement, if any. */
export function failedCheck(rows: readonly AnalysisRow[]): AnalysisRow | null {
  return rows.find((r) => r.passed === false) ?? null;
}

/**
 * A step's badge, consistent with the deployment's: a step "running" in a deployment that waits
 * for a person reads "Waiting", in a paused one "Paused", and a skipped one "Skipped".
 */
export function stepStatusView(
  stepStatus: string,
  deploymentStatus: string,
  waitingFor: string | null,
): { tone: string; label: string } {
  if (stepStatus === 'running' && deploymentStatus === 'paused')
    return waitingFor ? { tone: 'paused', label: 'Waiting' } : { tone: 'paused', label: 'Paused' };
  if (stepStatus === 'skipped') return { tone: 'skipped', label: 'Skipped' };
  return { tone: stepStatus, label: statusLabel(stepStatus) };
}
