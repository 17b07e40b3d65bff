// The Prometheus analysis provider (docs/monitoring.md "Prometheus as the analysis source"): a
// canary's figures from PromQL templates an admin set per environment, instead of the traffic
// provider's own window. Every failure to get a figure is said, never turned into a zero.
import { PROMQL_PLACEHOLDERS, type PrometheusAnalysisSettings } from '@qubot/api-contract';

export type PrometheusSetting = Required<PrometheusAnalysisSettings>;
type Placeholder = (typeof PROMQL_PLACEHOLDERS)[number];
export type PromqlVars = Record<Placeholder, string>;

export const DEFAULT_QUERY_TIMEOUT_SECONDS = 5;
const QUERY_FIELDS = ['requests', 'errorRate', 'p95Seconds'] as const;

/** The stored setting (environments.analysis_prometheus), or null when the router's figures apply. */
export function prometheusSettingOf(stored: unknown): PrometheusSetting | null {
  const s = stored as Partial<PrometheusSetting> | null | undefined;
  if (!s || typeof s.url !== 'string' || !s.queries) return null;
  return {
    url: s.url,
    queries: s.queries,
    timeoutSeconds: typeof s.timeoutSeconds === 'number' ? s.timeoutSeconds : DEFAULT_QUERY_TIMEOUT_SECONDS,
  };
}

/**
 * What is wrong with a setting, as `{ field, message }` naming the body field, or null. Checked at
 * save so a canary never finds out mid-rollout: the URL, and each template's placeholders (only
 * known ones; `{{pool}}` in each, or the canary could not be told from the stable pool).
 */
export function prometheusSettingProblem(
  s: PrometheusAnalysisSettings,
): { field: string; message: string } | null {
  let url: URL;
  try {
    url = new URL(s.url);
  } catch {
    return { field: 'body.prometheus.url', message: 'must be a URL like http://prometheus:9090' };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    return { field: 'body.prometheus.url', message: 'must be an http:// or https:// URL' };
  if (url.username || url.password)
    return {
      field: 'body.prometheus.url',
      message: 'must not carry credentials (they would be shown to every reader of the setting)',
    };
  if (url.search || url.hash)
    return { field: 'body.prometheus.url', message: 'must be the base URL, without a query or fragment' };
  for (const key of QUERY_FIELDS) {
    const template = s.queries[key];
    const field = `body.prometheus.queries.${key}`;
    const used = [...template.matchAll(/\{\{\s*([^}]*?)\s*\}\}/g)].map((m) => m[1] as string);
    const unknown = used.find((p) => !(PROMQL_PLACEHOLDERS as readonly string[]).includes(p));
    if (unknown !== undefined)
      return {
        field,
        message: `unknown placeholder {{${unknown}}}; known: ${PROMQL_PLACEHOLDERS.map((p) => `{{${p}}}`).join(', ')}`,
      };
    if (/\{\{|\}\}/.test(template.replace(/\{\{\s*[^}]*?\s*\}\}/g, '')))
      return { field, message: 'has an unclosed {{ or a stray }}' };
    if (!used.includes('pool'))
      return {
        field,
        message: 'must use {{pool}}: without it the canary cannot be told from the stable pool',
      };
  }
  return null;
}

/** The template with its placeholders filled in (names and pools are [a-z0-9.-], safe in a label matcher). */
export function renderPromql(template: string, vars: PromqlVars): string {
  return template.replace(/\{\{\s*([a-z]+)\s*\}\}/g, (_, name: Placeholder) => vars[name]);
}

/** A window in whole seconds, as a Prometheus duration. */
export const promDuration = (ms: number) => `${Math.max(1, Math.ceil(ms / 1000))}s`;

/** One instant query's number: a scalar or a one-series vector; null when it has no data (or NaN). */
export async function queryNumber(
  s: PrometheusSetting,
  promql: string,
  signal?: AbortSignal,
): Promise<number | null> {
  const url = `${s.url.replace(/\/+$/, '')}/api/v1/query`;
  const timeout = AbortSignal.timeout(s.timeoutSeconds * 1000);
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ query: promql }).toString(),
      signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
    });
  } catch (err) {
    const e = err as Error & { cause?: { code?: string; message?: string } };
    const why =
      e.name === 'TimeoutError'
        ? `no answer within ${s.timeoutSeconds}s`
        : (e.cause?.code ?? e.cause?.message ?? e.message);
    throw new Error(`Prometheus at ${s.url} cannot be reached: ${why}`);
  }
  const body = (await res.json().catch(() => null)) as {
    status?: string;
    error?: string;
    data?: { resultType?: string; result?: unknown };
  } | null;
  if (!res.ok || body?.status !== 'success')
    throw new Error(
      `Prometheus at ${s.url} refused the query (HTTP ${res.status}): ${body?.error ?? 'no error message'}`,
    );
  const { resultType, result } = body.data ?? {};
  let raw: string | undefined;
  if (resultType === 'scalar') raw = (result as [number, string])[1];
  else if (resultType === 'vector') {
    const series = result as { value: [number, string] }[];
    if (series.length > 1)
      throw new Error(`the query gave ${series.length} series, not one number: aggregate it (sum, max, …)`);
    raw = series[0]?.value[1];
  } else throw new Error(`the query gave a ${resultType ?? 'missing'} result, not a number`);
  if (raw === undefined) return null;
  const n = Number(raw);
  return Number.isFinite(n) ? n : null;
}

export interface PoolFigures {
  requests: number;
  errorRate: number | null;
  p95Ms: number | null;
}

/** The three figures of one pool over the window, queried at once. */
export async function poolFigures(
  s: PrometheusSetting,
  vars: PromqlVars,
  signal?: AbortSignal,
): Promise<PoolFigures> {
  const [requests = null, errorRate = null, p95 = null] = await Promise.all(
    QUERY_FIELDS.map((key) =>
      queryNumber(s, renderPromql(s.queries[key], vars), signal).catch((err: Error) => {
        throw new Error(`${key} query: ${err.message}`);
      }),
    ),
  );
  return {
    requests: Math.max(0, Math.round(requests ?? 0)),
    errorRate: errorRate === null ? null : Math.min(1, Math.max(0, errorRate)),
    p95Ms: p95 === null ? null : p95 * 1000,
  };
}
