import type { AnalysisResult } from '@qubot/api-contract';
import { useState } from 'react';
import {
  CartesianGrid,
  Legend,
  Line,
  LineChart,
  ReferenceLine,
  ResponsiveContainer,
  Tooltip,
  XAxis,
  YAxis,
} from 'recharts';
import { SelectField } from '../../components/field';
import {
  type AnalysisPoint,
  analysisTimeSeries,
  type CheckSeries,
  type StepAnalysis,
} from './analysis-chart-utils';
import { formatMetricTick, formatMetricValue, formatThreshold, metricLabel } from './deployment-utils';

const CANARY = '#1d4ed8';
const STABLE = '#6b7280';
const THRESHOLD = '#b42318';

/** The latest measurement of a check in words (screen readers, and anyone who would rather read). */
function checkSummary(c: CheckSeries): string {
  const last = c.points.at(-1);
  if (!last) return `${metricLabel(c.metric)}: not measured.`;
  const stable = last.stable === null ? '' : `, stable ${formatMetricValue(c.metric, last.stable)}`;
  const enough =
    last.verdict === 'inconclusive' && c.metric !== 'minRequests'
      ? ` — inconclusive: ${last.samples} of at least ${c.minSamples} requests`
      : ` — ${last.verdict}`;
  return `${metricLabel(c.metric)} at ${last.t} s: canary ${formatMetricValue(c.metric, last.canary)}${stable}, threshold ${formatThreshold({ metric: c.metric, threshold: c.threshold, bound: c.bound })}${enough}.`;
}

function CheckChart({ check }: { check: CheckSeries }) {
  const hasStable = check.points.some((p) => p.stable !== null);
  return (
    <figure className="card">
      <figcaption className="field__label">
        {metricLabel(check.metric)}
        <span className="muted small">
          {' '}
          · threshold{' '}
          {formatThreshold({ metric: check.metric, threshold: check.threshold, bound: check.bound })}
          {check.metric !== 'minRequests' ? ` · at least ${check.minSamples} requests` : ''}
        </span>
      </figcaption>
      {/* The chart is a picture of the sentence below it: hidden from screen readers, which read the sentence. */}
      <div className="chart" aria-hidden="true">
        <ResponsiveContainer width="100%" height="100%">
          <LineChart
            data={check.points}
            margin={{ top: 12, right: 16, bottom: 4, left: 0 }}
            // Not focusable: the chart is hidden from assistive technology (the sentence below says it).
            accessibilityLayer={false}
          >
            <CartesianGrid stroke="#e5e8ee" strokeDasharray="3 3" />
            <XAxis dataKey="label" tick={{ fontSize: 12 }} />
            <YAxis
              tick={{ fontSize: 12 }}
              width={64}
              tickFormatter={(v: number) => formatMetricTick(check.metric, v)}
            />
            <Tooltip
              formatter={(v, name) => [
                formatMetricValue(check.metric, typeof v === 'number' ? v : Number(v)),
                String(name),
              ]}
            />
            <Legend wrapperStyle={{ fontSize: 12 }} />
            <ReferenceLine
              y={check.threshold}
              // Keep the threshold in view even when every measurement is far from it.
              ifOverflow="extendDomain"
              stroke={THRESHOLD}
              strokeDasharray="6 4"
              label={{
                value: `threshold ${formatThreshold({ metric: check.metric, threshold: check.threshold, bound: check.bound })}`,
                position: 'insideTopRight',
                fill: THRESHOLD,
                fontSize: 11,
              }}
            />
            <Line
              type="monotone"
              dataKey="canary"
              name="canary (new release)"
              stroke={CANARY}
              strokeWidth={2}
              connectNulls
              // Hollow dots: measured on fewer requests than the minimum (inconclusive).
              dot={(props: { cx?: number; cy?: number; payload?: AnalysisPoint; index?: number }) => (
                <circle
                  key={props.index}
                  cx={props.cx}
                  cy={props.cy}
                  r={3.5}
                  stroke={props.payload?.verdict === 'failed' ? THRESHOLD : CANARY}
                  strokeWidth={2}
                  fill={
                    props.payload?.verdict === 'inconclusive'
                      ? '#fff'
                      : props.payload?.verdict === 'failed'
                        ? THRESHOLD
                        : CANARY
                  }
                />
              )}
              isAnimationActive={false}
            />
            {hasStable ? (
              <Line
                type="monotone"
                dataKey="stable"
                name="stable pool"
                stroke={STABLE}
                strokeWidth={2}
                strokeDasharray="4 3"
                connectNulls
                dot={{ r: 2 }}
                isAnimationActive={false}
              />
            ) : null}
          </LineChart>
        </ResponsiveContainer>
      </div>
      <p className="muted small">{checkSummary(check)}</p>
    </figure>
  );
}

/**
 * The analysis of a step as time series (one point per measurement, every few seconds of its hold),
 * canary and stable pool side by side against the threshold — one small chart per check, since
 * their units differ. A step picker chooses among the steps measured (the latest by default).
 */
export function AnalysisCharts({ analysis }: { analysis: readonly AnalysisResult[] }) {
  const steps = analysisTimeSeries(analysis);
  const [chosen, setChosen] = useState<string | null>(null);
  if (steps.length === 0) return null;
  const step: StepAnalysis = steps.find((s) => s.step === chosen) ?? (steps.at(-1) as StepAnalysis);
  return (
    <section className="analysis-charts" aria-label="Analysis over time">
      <SelectField label="Step" value={step.step} onChange={(e) => setChosen(e.target.value)}>
        {steps.map((s) => (
          <option key={s.step} value={s.step}>
            {s.label} — {s.verdict}
          </option>
        ))}
      </SelectField>
      <p className={`small analysis-verdict analysis-verdict--${step.verdict}`}>
        {step.label}:{' '}
        {step.verdict === 'inconclusive' ? 'inconclusive (not enough requests yet)' : step.verdict}
      </p>
      <div className="charts">
        {step.checks.map((c) => (
          <CheckChart key={c.metric} check={c} />
        ))}
      </div>
    </section>
  );
}
