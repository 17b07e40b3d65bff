import type { Step } from '@qubot/api-contract';
import { formatNumber, formatPercent } from '../../lib/format-utils';
import { statusLabel, statusTone } from '../../lib/status-utils';

type Rec = Record<string, unknown>;

const isRec = (v: unknown): v is Rec => typeof v === 'object' && v !== null && !Array.isArray(v);
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);

function pick(obj: Rec, keys: readonly string[], read: (v: unknown) => number | null): number | null {
  for (const key of keys) {
    const value = read(obj[key]);
    if (value !== null) return value;
  }
  return null;
}

export interface ProgressView {
  /** 0–100 overall, when it can be told. */
  percent: number | null;
  instancesReady: number | null;
  instancesTotal: number | null;
  step: number | null;
  totalSteps: number | null;
  /** Share of traffic on the new release, 0–100. */
  newTrafficPercent: number | null;
  weights: { pool: string; weight: number }[];
}

/**
 * `progress` is `unknown` in the contract: strategies report different things. Read the
 * common shapes and leave out what is not there rather than guessing.
 */
export function parseProgress(progress: unknown, steps: readonly Pick<Step, 'status'>[] = []): ProgressView {
  const p = isRec(progress) ? progress : {};
  const instancesReady = pick(p, ['instancesReady', 'readyInstances', 'ready', 'updated'], num);
  const instancesTotal = pick(
    p,
    ['instancesTotal', 'totalInstances', 'desiredInstances', 'total', 'replicas'],
    num,
  );
  const step = pick(p, ['step', 'currentStep', 'stepIndex', 'batch'], num);
  const totalSteps = pick(p, ['totalSteps', 'steps', 'stepCount', 'batches'], num);
  let newTrafficPercent = pick(p, ['newTrafficPercent', 'canaryWeight', 'trafficPercent', 'weight'], num);

  const rawWeights = Array.isArray(p.weights) ? p.weights : Array.isArray(p.traffic) ? p.traffic : [];
  const weights = rawWeights.flatMap((w) => {
    if (!isRec(w)) return [];
    const pool = str(w.pool);
    const weight = num(w.weight);
    return pool && weight !== null ? [{ pool, weight }] : [];
  });
  if (newTrafficPercent !== null && newTrafficPercent <= 1 && newTrafficPercent > 0) newTrafficPercent *= 100;

  let percent = pick(p, ['percent', 'percentage'], num);
  if (percent !== null && percent <= 1 && percent > 0 && !Number.isInteger(percent)) percent *= 100;
  if (percent === null && instancesReady !== null && instancesTotal) {
    percent = (instancesReady / instancesTotal) * 100;
  }
  if (percent === null && steps.length > 0) {
    const done = steps.filter((s) => s.status === 'succeeded' || s.status === 'skipped').length;
    percent = (done / steps.length) * 100;
  }
  if (percent !== null) percent = Math.max(0, Math.min(100, Math.round(percent)));

  return { percent, instancesReady, instancesTotal, step, totalSteps, newTrafficPercent, weights };
}

/** One line for a card: "3/4 instances · step 2 of 4 · 25 % traffic on new". */
export function progressSummary(view: ProgressView): string | null {
  const parts: string[] = [];
  if (view.instancesReady !== null && view.instancesTotal !== null) {
    parts.push(`${view.instancesReady}/${view.instancesTotal} instances ready`);
  }
  if (view.step !== null && view.totalSteps !== null) parts.push(`step ${view.step} of ${view.totalSteps}`);
  if (view.newTrafficPercent !== null) parts.push(`${Math.round(view.newTrafficPercent)} % traffic on new`);
  return parts.length ? parts.join(' · ') : null;
}

export type ProgressDisplay =
  /** Still going: the percentage, for a bar. */
  | { kind: 'percent'; percent: number; text: string }
  /**
   * Finished: the outcome. A rolled-back deployment stopped at "83 %" is not 83 % done, so
   * no percentage and no bar; `tone` colours the text like the status badge.
   */
  | { kind: 'outcome'; text: string; tone: 'ok' | 'bad' | 'warn' | 'active' | 'muted' }
  | { kind: 'unknown'; text: string };

const FINISHED = ['succeeded', 'failed', 'rolled_back', 'aborted'];

/** What to show as a deployment's progress: a percentage while it runs, its outcome once it ended. */
export function progressDisplay(status: string, view: Pick<ProgressView, 'percent'>): ProgressDisplay {
  if (FINISHED.includes(status))
    return { kind: 'outcome', text: statusLabel(status), tone: statusTone(status) };
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
  message: string | null;
}

const ROW_LIST_KEYS = ['results', 'checks', 'samples', 'measurements', 'items'] as const;

function rowsOf(analysis: unknown): unknown[] {
  if (Array.isArray(analysis)) return analysis;
  if (!isRec(analysis)) return [];
  for (const key of ROW_LIST_KEYS) {
    const v = analysis[key];
    if (Array.isArray(v)) return v;
  }
  return [];
}

function passedOf(r: Rec): boolean | null {
  if (typeof r.passed === 'boolean') return r.passed;
  if (typeof r.ok === 'boolean') return r.ok;
  if (typeof r.success === 'boolean') return r.success;
  const result = str(r.result) ?? str(r.status) ?? str(r.outcome);
  if (!result) return null;
  if (['pass', 'passed', 'ok', 'success', 'succeeded'].includes(result)) return true;
  if (['fail', 'failed', 'breach', 'breached', 'error'].includes(result)) return false;
  return null;
}

function boundOf(r: Rec, metric: string): 'max' | 'min' | null {
  // The engine states the direction itself (`bound`); guessing from the name would turn
  // "at least 2 healthy instances" into "at most 2".
  if (r.bound === 'max' || r.bound === 'min') return r.bound;
  if (num(r.max) !== null) return 'max';
  if (num(r.min) !== null) return 'min';
  const op = str(r.comparator) ?? str(r.operator) ?? str(r.op);
  if (op) return op.includes('>') || op === 'gte' || op === 'gt' || op === 'min' ? 'min' : 'max';
  // Request counts are minimums; error rates and latencies are maximums.
  if (/count|requests|min/i.test(metric)) return 'min';
  return r.threshold === undefined ? null : 'max';
}

/**
 * Flatten `analysis` into rows. Accepts an array of results or `{ results | checks | samples }`,
 * each `{ metric|name, value, threshold|max|min, passed|result, at|time, step }`; nested
 * `{ metrics: { name: { value, threshold } } }` per entry are expanded.
 */
export function parseAnalysis(analysis: unknown): AnalysisRow[] {
  const rows: AnalysisRow[] = [];
  rowsOf(analysis).forEach((raw, i) => {
    if (!isRec(raw)) return;
    const at =
      str(raw.at) ?? str(raw.time) ?? str(raw.timestamp) ?? str(raw.measuredAt) ?? str(raw.createdAt);
    const stepValue = raw.step ?? raw.stepName ?? raw.stepIndex;
    const step = typeof stepValue === 'number' ? String(stepValue) : str(stepValue);
    const push = (metric: string, r: Rec, j: number) => {
      const threshold = num(r.threshold) ?? num(r.max) ?? num(r.min) ?? num(r.limit);
      rows.push({
        key: `${i}-${j}-${metric}`,
        at,
        step,
        metric,
        value: num(r.value) ?? num(r.observed) ?? num(r.actual),
        threshold,
        bound: boundOf(r, metric),
        passed: passedOf(r) ?? passedOf(raw),
        message: str(r.message) ?? str(r.reason) ?? null,
      });
    };
    if (isRec(raw.metrics)) {
      Object.entries(raw.metrics).forEach(([metric, m], j) => {
        if (isRec(m)) push(metric, m, j);
        else if (num(m) !== null) push(metric, { value: m }, j);
      });
      return;
    }
    const metric = str(raw.metric) ?? str(raw.name) ?? str(raw.check) ?? 'check';
    push(metric, raw, 0);
  });
  return rows;
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

/** Which control buttons make sense for a deployment's state; the server still decides. */
export function availableControls(d: { status: string; waitingFor: string | null }) {
  const active = d.status === 'pending' || d.status === 'running' || d.status === 'paused';
  return {
    pause: d.status === 'running',
    resume: d.status === 'paused' && d.waitingFor === null,
    abort: active,
    // A held canary step may report running or paused depending on the strategy; let the server judge.
    advance: (d.status === 'paused' || d.status === 'running') && d.waitingFor !== 'approval',
    approve: d.status === 'paused' && d.waitingFor === 'approval',
  };
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
