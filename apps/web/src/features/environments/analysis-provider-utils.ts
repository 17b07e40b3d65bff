import {
  type AnalysisProviderView,
  type PutAnalysisProviderBody,
  QUBOT_ROUTER_QUERIES,
} from '@qubot/api-contract';

/** The analysis provider form's values. */
export interface AnalysisDraft {
  provider: 'router' | 'prometheus';
  url: string;
  requests: string;
  errorRate: string;
  p95Seconds: string;
  timeoutSeconds: string;
}
export type AnalysisField =
  | 'provider'
  | 'url'
  | 'requests'
  | 'errorRate'
  | 'p95Seconds'
  | 'timeoutSeconds'
  | 'reason';

/** The stored setting as the form edits it; with none yet, the templates for Qubot's own router metrics. */
export function analysisDraft(view: AnalysisProviderView | undefined): AnalysisDraft {
  const p = view?.prometheus;
  const q = p?.queries ?? QUBOT_ROUTER_QUERIES;
  return {
    provider: view?.provider ?? 'router',
    url: p?.url ?? '',
    requests: q.requests,
    errorRate: q.errorRate,
    p95Seconds: q.p95Seconds,
    timeoutSeconds: String(p?.timeoutSeconds ?? 5),
  };
}

/** The PUT body; the server checks URL and templates and names the field it refuses. */
export function analysisBody(d: AnalysisDraft, reason: string): PutAnalysisProviderBody {
  const why = reason.trim() ? { reason: reason.trim() } : {};
  if (d.provider === 'router') return { provider: 'router', ...why };
  const timeout = Number(d.timeoutSeconds);
  return {
    provider: 'prometheus',
    prometheus: {
      url: d.url.trim(),
      queries: { requests: d.requests, errorRate: d.errorRate, p95Seconds: d.p95Seconds },
      ...(d.timeoutSeconds.trim() && Number.isFinite(timeout) ? { timeoutSeconds: timeout } : {}),
    },
    ...why,
  };
}

/** The form field a server validation error is about (`body.prometheus.queries.errorRate` → errorRate). */
export function analysisFieldOf(serverField: string | null): AnalysisField | null {
  const last = serverField?.split('.').at(-1);
  const known: AnalysisField[] = [
    'provider',
    'url',
    'requests',
    'errorRate',
    'p95Seconds',
    'timeoutSeconds',
    'reason',
  ];
  return known.find((f) => f === last) ?? null;
}

/** One line for everyone: where the canary analysis reads its figures. */
export function analysisSummary(view: AnalysisProviderView): string {
  return view.prometheus
    ? `Prometheus at ${view.prometheus.url}${view.updatedBy ? ` (set by ${view.updatedBy})` : ''}`
    : "the traffic provider's own figures (router)";
}
