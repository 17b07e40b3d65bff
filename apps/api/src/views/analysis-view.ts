// Stored analysis rows, as the API shows them. Rows written before verdicts existed (a deployment
// that finished earlier) get the fields they lack, so every row has the contract's shape.
import type { AnalysisResult } from '@qubot/api-contract';

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const METRICS = ['health', 'minRequests', 'errorRate', 'p95Ms'] as const;
const VERDICTS = ['passed', 'failed', 'inconclusive'] as const;

export function analysisView(stored: unknown): AnalysisResult[] {
  if (!Array.isArray(stored)) return [];
  return stored.flatMap((r): AnalysisResult[] => {
    if (!isRecord(r)) return [];
    const metric = METRICS.find((m) => m === r.metric);
    if (!metric) return [];
    const verdict = VERDICTS.find((v) => v === r.verdict) ?? (r.passed === true ? 'passed' : 'failed');
    const samples = num(r.samples) ?? (metric === 'minRequests' ? (num(r.value) ?? 0) : 0);
    return [
      {
        step: typeof r.step === 'string' ? r.step : '',
        pool: r.pool === 'green' ? 'green' : 'blue',
        metric,
        value: num(r.value),
        threshold: num(r.threshold) ?? 0,
        bound: r.bound === 'min' ? 'min' : 'max',
        verdict,
        passed: verdict === 'passed',
        samples: Math.round(samples),
        minSamples: Math.round(num(r.minSamples) ?? 0),
        baseline: num(r.baseline),
        at: typeof r.at === 'string' ? r.at : new Date(num(r.until) ?? 0).toISOString(),
        since: num(r.since) ?? 0,
        until: num(r.until) ?? 0,
        ...(typeof r.unavailable === 'string' ? { unavailable: r.unavailable } : {}),
        ...(r.source === 'router' || r.source === 'prometheus' ? { source: r.source } : {}),
      },
    ];
  });
}
