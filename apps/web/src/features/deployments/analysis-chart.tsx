import {
  CartesianGrid,
  Line,
  LineChart,
  ReferenceLine,
  ResponsiveContainer,
  Tooltip,
  XAxis,
  YAxis,
} from 'recharts';
import {
  formatMetricTick,
  formatMetricValue,
  formatThreshold,
  type MetricSeries,
  metricLabel,
} from './deployment-utils';

/** One small chart per metric: units differ (percent, milliseconds, counts), so they never share an axis. */
export function AnalysisCharts({ series }: { series: readonly MetricSeries[] }) {
  if (series.length === 0) return null;
  return (
    <div className="charts">
      {series.map((s) => (
        <figure key={s.metric} className="card">
          <figcaption className="field__label">
            {metricLabel(s.metric)}
            {s.threshold !== null ? (
              <span className="muted small"> · threshold {formatThreshold(s)}</span>
            ) : null}
          </figcaption>
          <div className="chart">
            <ResponsiveContainer width="100%" height="100%">
              <LineChart data={s.points} margin={{ top: 12, right: 16, bottom: 4, left: 0 }}>
                <CartesianGrid stroke="#e5e8ee" strokeDasharray="3 3" />
                <XAxis dataKey="label" tick={{ fontSize: 12 }} />
                {/* Plotted in the measured unit (error rates as fractions), shown like the table. */}
                <YAxis
                  tick={{ fontSize: 12 }}
                  width={64}
                  tickFormatter={(v: number) => formatMetricTick(s.metric, v)}
                />
                <Tooltip
                  formatter={(v) => formatMetricValue(s.metric, typeof v === 'number' ? v : Number(v))}
                />
                {s.threshold !== null ? (
                  <ReferenceLine
                    y={s.threshold}
                    // Keep the threshold in view even when every measurement is far below it.
                    ifOverflow="extendDomain"
                    stroke="#b42318"
                    strokeDasharray="6 4"
                    label={{
                      value: `threshold ${formatThreshold(s)}`,
                      position: 'insideTopRight',
                      fill: '#b42318',
                      fontSize: 11,
                    }}
                  />
                ) : null}
                <Line
                  type="monotone"
                  dataKey="value"
                  name={metricLabel(s.metric)}
                  stroke="#1d4ed8"
                  strokeWidth={2}
                  dot={{ r: 3 }}
                  isAnimationActive={false}
                />
              </LineChart>
            </ResponsiveContainer>
          </div>
        </figure>
      ))}
    </div>
  );
}
