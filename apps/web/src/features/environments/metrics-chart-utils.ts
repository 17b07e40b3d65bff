import type { EnvironmentMetrics, MetricsSample } from '@qubot/api-contract';

/** A row of the chart: one per sample, `<pool>_rps` and `<pool>_eps` per pool. */
export interface ChartRow {
  t: number;
  label: string;
  [series: string]: number | string | null;
}

/** Adds a live sample to the history the chart shows, keeping `windowMs` of it (newest last, no duplicates). */
export function appendSample(
  history: EnvironmentMetrics | undefined,
  sample: MetricsSample,
  windowMs: number,
): EnvironmentMetrics | undefined {
  if (!history) return history;
  if (history.samples.some((s) => s.at === sample.at)) return history;
  const from = Date.parse(sample.at) - windowMs;
  const samples = [...history.samples, sample]
    .filter((s) => Date.parse(s.at) > from)
    .sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
  return { ...history, samples };
}

/** Pools in a stable order (blue, green, then others), as seen anywhere in the window. */
export function poolsOf(samples: readonly MetricsSample[]): string[] {
  const seen = new Set<string>();
  for (const s of samples) for (const p of s.pools) seen.add(p.pool);
  const rank = (p: string) => (p === 'blue' ? 0 : p === 'green' ? 1 : 2);
  return [...seen].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
}

const round1 = (n: number) => Math.round(n * 10) / 10;
const clock = (ms: number) => new Date(ms).toISOString().slice(11, 19);

/** Requests/s and errors/s per pool per sample; a pool absent from a sample is null (a gap, not zero). */
export function toChartRows(samples: readonly MetricsSample[], pools: readonly string[]): ChartRow[] {
  return samples.map((s) => {
    const t = Date.parse(s.at);
    const row: ChartRow = { t, label: clock(t) };
    const seconds = s.intervalMs / 1000;
    for (const pool of pools) {
      const p = s.pools.find((x) => x.pool === pool);
      row[`${pool}_rps`] = p ? round1(p.requests / seconds) : null;
      row[`${pool}_eps`] = p ? round1(p.errors / seconds) : null;
    }
    return row;
  });
}

/** The latest figures in words, for screen readers and for anyone who would rather read than chart. */
export function metricsSummary(samples: readonly MetricsSample[]): string {
  const last = samples.at(-1);
  if (!last) return 'No traffic figures yet.';
  if (last.pools.length === 0) return 'No pool is receiving traffic.';
  const seconds = last.intervalMs / 1000;
  const parts = last.pools.map((p) => {
    const version = p.version ? ` (${p.version})` : '';
    const p95 = p.p95Ms !== null ? `, p95 ${Math.round(p.p95Ms)} ms` : '';
    return `${p.pool}${version}: ${round1(p.requests / seconds)} requests/s, ${round1(p.errors / seconds)} errors/s${p95}`;
  });
  return `Latest, at ${clock(Date.parse(last.at))} UTC — ${parts.join('; ')}.`;
}
