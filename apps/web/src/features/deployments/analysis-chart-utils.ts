import type { AnalysisResult, AnalysisVerdict } from '@qubot/api-contract';

/** One measurement of one check: the canary's value and the stable pool's, seconds into the step. */
export interface AnalysisPoint {
  /** Seconds since the step moved traffic (the start of its measurement window). */
  t: number;
  label: string;
  canary: number | null;
  stable: number | null;
  verdict: AnalysisVerdict;
  samples: number;
}

export interface CheckSeries {
  metric: AnalysisResult['metric'];
  threshold: number;
  bound: 'max' | 'min';
  minSamples: number;
  points: AnalysisPoint[];
}

export interface StepAnalysis {
  /** The step's key, e.g. `weight-25`. */
  step: string;
  label: string;
  checks: CheckSeries[];
  /** The last measurement's verdict for the step as a whole. */
  verdict: AnalysisVerdict;
}

/** A step key in words: `weight-25` → "Traffic 25%", `batch-2` → "Batch 2", `verify` → "After the switch". */
export function stepLabel(key: string): string {
  const weight = /^weight-(\d+)$/.exec(key);
  if (weight) return `Traffic ${weight[1]}%`;
  const batch = /^batch-(\d+)$/.exec(key);
  if (batch) return `Batch ${batch[1]}`;
  if (key === 'verify') return 'After the switch';
  return key;
}

const CHARTED: readonly AnalysisResult['metric'][] = ['errorRate', 'p95Ms', 'minRequests'];

/**
 * The analysis as time series: per step (in the order measured), per traffic check, one point per
 * measurement with the canary and the stable pool side by side.
 */
export function analysisTimeSeries(analysis: readonly AnalysisResult[]): StepAnalysis[] {
  const steps = new Map<string, StepAnalysis>();
  for (const r of analysis) {
    if (!CHARTED.includes(r.metric)) continue;
    let step = steps.get(r.step);
    if (!step) {
      step = { step: r.step, label: stepLabel(r.step), checks: [], verdict: r.verdict };
      steps.set(r.step, step);
    }
    let check = step.checks.find((c) => c.metric === r.metric);
    if (!check) {
      check = {
        metric: r.metric,
        threshold: r.threshold,
        bound: r.bound,
        minSamples: r.minSamples,
        points: [],
      };
      step.checks.push(check);
    }
    const t = Math.max(0, Math.round((r.until - r.since) / 1000));
    check.points.push({
      t,
      label: `${t} s`,
      canary: r.value,
      stable: r.baseline,
      verdict: r.verdict,
      samples: r.samples,
    });
  }
  for (const step of steps.values()) {
    for (const c of step.checks) c.points.sort((a, b) => a.t - b.t);
    const last = step.checks.map((c) => c.points.at(-1)?.verdict);
    step.verdict = last.includes('failed')
      ? 'failed'
      : last.includes('inconclusive')
        ? 'inconclusive'
        : 'passed';
    step.checks.sort((a, b) => CHARTED.indexOf(a.metric) - CHARTED.indexOf(b.metric));
  }
  return [...steps.values()];
}

/** Rows of each step's latest measurement only (the table): the series are in the charts. */
export function latestPerStep<T extends { step: string | null; at: string | null }>(rows: readonly T[]): T[] {
  const latest = new Map<string, string>();
  for (const r of rows) {
    const key = r.step ?? '';
    const at = r.at ?? '';
    if (!latest.has(key) || at > (latest.get(key) as string)) latest.set(key, at);
  }
  return rows.filter((r) => (r.at ?? '') === latest.get(r.step ?? ''));
}

export const VERDICT_LABELS: Record<AnalysisVerdict, string> = {
  passed: 'passed',
  failed: 'failed',
  inconclusive: 'inconclusive',
};
