import { CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { ErrorState, LoadingState } from '../../components/states';
import { METRICS_WINDOW_SECONDS, useEnvironmentMetrics } from '../../hooks/api/observe/queries';
import { type ChartRow, metricsSummary, poolsOf, toChartRows } from './metrics-chart-utils';

const POOL_COLOR: Record<string, string> = { blue: '#1f6feb', green: '#1a7f37' };
const colorOf = (pool: string) => POOL_COLOR[pool] ?? '#6e40c9';

function RateChart({
  title,
  rows,
  pools,
  suffix,
  unit,
}: {
  title: string;
  rows: ChartRow[];
  pools: string[];
  suffix: 'rps' | 'eps';
  unit: string;
}) {
  return (
    <figure className="card">
      <figcaption className="field__label">{title}</figcaption>
      {/* The figures are read out by the summary below; the drawing itself is decoration. */}
      <div className="chart" aria-hidden="true">
        <ResponsiveContainer width="100%" height="100%">
          <LineChart
            accessibilityLayer={false}
            data={rows}
            margin={{ top: 12, right: 16, bottom: 4, left: 0 }}
          >
            <CartesianGrid stroke="#e5e8ee" strokeDasharray="3 3" />
            <XAxis dataKey="label" tick={{ fontSize: 12 }} minTickGap={24} />
            <YAxis tick={{ fontSize: 12 }} width={48} allowDecimals />
            <Tooltip formatter={(v) => `${v} ${unit}`} />
            <Legend />
            {pools.map((pool) => (
              <Line
                key={pool}
                type="monotone"
                dataKey={`${pool}_${suffix}`}
                name={pool}
                stroke={colorOf(pool)}
                strokeWidth={2}
                strokeDasharray={suffix === 'eps' ? '6 3' : undefined}
                dot={false}
                isAnimationActive={false}
                connectNulls={false}
              />
            ))}
          </LineChart>
        </ResponsiveContainer>
      </div>
    </figure>
  );
}

/** Requests and errors per second per pool, from the environment's router, live. */
export function EnvironmentMetricsChart({ app, env }: { app: string; env: string }) {
  const metrics = useEnvironmentMetrics(app, env);
  const samples = metrics.data?.samples ?? [];
  const pools = poolsOf(samples);
  const rows = toChartRows(samples, pools);

  return (
    <section aria-labelledby="traffic-chart-title">
      <h2 id="traffic-chart-title">Traffic</h2>
      <p className="muted small">
        Requests and errors per second through the router, per pool, over the last{' '}
        {METRICS_WINDOW_SECONDS / 60} minutes; updated live.
      </p>
      {metrics.isPending ? (
        <LoadingState label="Loading traffic figures…" />
      ) : metrics.isError ? (
        <ErrorState error={metrics.error} onRetry={() => void metrics.refetch()} />
      ) : (
        <>
          <p className="small" id="traffic-summary">
            {metricsSummary(samples)}
          </p>
          {rows.length > 0 ? (
            <div className="charts" aria-describedby="traffic-summary">
              <RateChart title="Requests per second" rows={rows} pools={pools} suffix="rps" unit="req/s" />
              <RateChart title="Errors per second" rows={rows} pools={pools} suffix="eps" unit="errors/s" />
            </div>
          ) : null}
        </>
      )}
    </section>
  );
}
