import type { DoraEnvironment, DoraFigures } from '@qubot/api-contract';
import { Link, useNavigate, useParams, useSearchParams } from 'react-router';
import { SelectField } from '../../components/field';
import { EmptyState, ErrorState, LoadingState } from '../../components/states';
import { useApplications, useCurrentApplication } from '../../hooks/api/applications/queries';
import { useDora } from '../../hooks/api/dora/queries';
import { paths } from '../../lib/paths';
import {
  dailyBars,
  type FigureKey,
  formatDuration,
  formatPerDay,
  formatRate,
  linePath,
  linePoints,
  trendOf,
} from './dora-utils';
import './dora-page.css';

const WINDOWS = [7, 30, 90] as const;
type Days = (typeof WINDOWS)[number];

const FIGURES: { key: FigureKey; label: string; show: (f: DoraFigures) => string; hint: string }[] = [
  {
    key: 'deploymentsPerDay',
    label: 'Deployment frequency',
    show: (f) => `${formatPerDay(f.deploymentsPerDay)} (${f.deployments})`,
    hint: 'Successful deployments',
  },
  {
    key: 'leadTimeSeconds',
    label: 'Lead time',
    show: (f) => formatDuration(f.leadTimeSeconds),
    hint: 'Release created → deployed here (mean)',
  },
  {
    key: 'changeFailureRate',
    label: 'Change failure rate',
    show: (f) => formatRate(f.changeFailureRate),
    hint: 'Failed or rolled back, of finished deployments',
  },
  {
    key: 'timeToRestoreSeconds',
    label: 'Time to restore',
    show: (f) => formatDuration(f.timeToRestoreSeconds),
    hint: 'Failure → next success (mean)',
  },
];

/** DORA figures per environment, 7/30/90 days, with trend and daily charts (docs/monitoring.md). */
export function DoraPage() {
  const params = useParams();
  const app = useCurrentApplication(params.app);
  const dora = useDora(app.name);
  const [search, setSearch] = useSearchParams();
  const days = (WINDOWS.find((d) => String(d) === search.get('days')) ?? 30) as Days;

  const header = (
    <div className="page__header">
      <h1>DORA{app.name ? <span className="page__subject"> · {app.name}</span> : null}</h1>
      {app.name ? <ApplicationPicker current={app.name} /> : null}
      <p className="page__lead">
        Deployment frequency, lead time, change failure rate and time to restore, from the deployment history.{' '}
        <Link to={paths.deployments(app.name ? { app: app.name } : {})}>Deployment history</Link>
      </p>
      <fieldset className="dora-window">
        <legend className="visually-hidden">Window</legend>
        {WINDOWS.map((d) => (
          <label key={d} className={`dora-window__option ${d === days ? 'dora-window__option--on' : ''}`}>
            <input
              type="radio"
              name="dora-window"
              value={d}
              checked={d === days}
              onChange={() => setSearch({ days: String(d) }, { replace: true })}
            />
            {d} days
          </label>
        ))}
      </fieldset>
    </div>
  );

  let body: React.ReactNode;
  if (app.isPending || (app.name && dora.isPending)) body = <LoadingState label="Loading DORA figures…" />;
  else if (app.isError) body = <ErrorState error={app.error} onRetry={() => void app.refetch()} />;
  else if (!app.name) body = <EmptyState title="No applications yet" />;
  else if (dora.isError) body = <ErrorState error={dora.error} onRetry={() => void dora.refetch()} />;
  else
    body = (
      <div className="dora-envs">
        {(dora.data?.environments ?? []).map((env) => (
          <EnvironmentDora key={env.environment} env={env} days={days} />
        ))}
      </div>
    );
  return (
    <div className="page">
      {header}
      {body}
    </div>
  );
}

function EnvironmentDora({ env, days }: { env: DoraEnvironment; days: Days }) {
  const w = env.windows.find((x) => x.days === days);
  if (!w) return null;
  const series = env.daily.slice(-days);
  const headingId = `dora-${env.environment}`;
  return (
    <section className="dora-env" aria-labelledby={headingId}>
      <h2 id={headingId}>{env.environment}</h2>
      <dl className="stats">
        {FIGURES.map((f) => {
          const trend = trendOf(f.key, w.current, w.previous, days);
          return (
            <div key={f.key} className="stat" title={f.hint}>
              <dt>{f.label}</dt>
              <dd>{f.show(w.current)}</dd>
              <dd
                className={`dora-trend ${trend?.better === true ? 'dora-trend--better' : trend?.better === false ? 'dora-trend--worse' : ''}`}
              >
                {trend ? trend.text : <span className="muted">no earlier figure</span>}
              </dd>
            </div>
          );
        })}
      </dl>
      <div className="charts">
        <DeploymentsChart env={env.environment} series={series} />
        <LeadTimeChart env={env.environment} series={series} />
      </div>
    </section>
  );
}

const W = 300;
const H = 80;

function DeploymentsChart({ env, series }: { env: string; series: DoraEnvironment['daily'] }) {
  const { bars, max } = dailyBars(series, W, H);
  const ok = series.reduce((n, d) => n + d.succeeded, 0);
  const failed = series.reduce((n, d) => n + d.failed, 0);
  return (
    <figure className="dora-chart">
      <figcaption>
        Deployments per day <span className="muted small">(max {max})</span>
      </figcaption>
      <svg
        viewBox={`0 0 ${W} ${H}`}
        preserveAspectRatio="none"
        role="img"
        aria-label={`${env}: ${ok} successful and ${failed} failed deployments over ${series.length} days`}
      >
        {bars.map((b, i) => (
          <g key={series[i]?.day}>
            <title>{`${series[i]?.day}: ${series[i]?.succeeded} succeeded, ${series[i]?.failed} failed`}</title>
            {b.okHeight > 0 ? (
              <rect className="dora-bar--ok" x={b.x} y={b.okY} width={b.width} height={b.okHeight} />
            ) : null}
            {b.failHeight > 0 ? (
              <rect className="dora-bar--failed" x={b.x} y={b.failY} width={b.width} height={b.failHeight} />
            ) : null}
          </g>
        ))}
      </svg>
      <p className="dora-legend small">
        <span className="dora-swatch dora-swatch--ok" aria-hidden="true" /> succeeded{' '}
        <span className="dora-swatch dora-swatch--failed" aria-hidden="true" /> failed or rolled back
      </p>
    </figure>
  );
}

function LeadTimeChart({ env, series }: { env: string; series: DoraEnvironment['daily'] }) {
  const values = series.map((d) => d.leadTimeSeconds);
  const present = values.filter((v): v is number => v !== null);
  const path = linePath(values, W, H - 4);
  return (
    <figure className="dora-chart">
      <figcaption>
        Lead time per day{' '}
        <span className="muted small">
          (max {formatDuration(present.length ? Math.max(...present) : null)})
        </span>
      </figcaption>
      <svg
        viewBox={`0 -2 ${W} ${H}`}
        preserveAspectRatio="none"
        role="img"
        aria-label={
          present.length
            ? `${env}: lead time between ${formatDuration(Math.min(...present))} and ${formatDuration(Math.max(...present))}`
            : `${env}: no successful deployment in the window`
        }
      >
        {path ? <path className="dora-line" d={path} vectorEffect="non-scaling-stroke" /> : null}
        {linePoints(values, W, H - 4).map((p) => (
          <circle key={p.i} className="dora-dot" cx={p.x} cy={p.y} r={2.5}>
            <title>{`${series[p.i]?.day}: ${formatDuration(values[p.i] ?? null)}`}</title>
          </circle>
        ))}
      </svg>
    </figure>
  );
}

/** With more than one application, choose whose figures to show (`/apps/:app/dora`). */
function ApplicationPicker({ current }: { current: string }) {
  const apps = useApplications();
  const navigate = useNavigate();
  const items = apps.data?.items ?? [];
  if (items.length < 2) return null;
  return (
    <SelectField label="Application" value={current} onChange={(e) => navigate(paths.dora(e.target.value))}>
      {items.map((a) => (
        <option key={a.name} value={a.name}>
          {a.name}
        </option>
      ))}
    </SelectField>
  );
}
