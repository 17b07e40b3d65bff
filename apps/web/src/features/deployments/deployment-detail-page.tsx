import type { Deployment } from '@qubot/api-contract';
import { Link, useParams } from 'react-router';
import { ErrorState, LoadingState } from '../../components/states';
import { StatusBadge } from '../../components/status-badge';
import { Time } from '../../components/time';
import { useDeployment } from '../../hooks/api/deployments/queries';
import { useEnvironment } from '../../hooks/api/environments/queries';
import { useLiveDeploymentTraffic } from '../../hooks/api/observe/queries';
import { formatDuration, formatNumber, formatPercent } from '../../lib/format-utils';
import { paths } from '../../lib/paths';
import { useDeploymentSubscription } from '../../lib/use-event-stream';
import { useNow } from '../../lib/use-now';
import { AnalysisCharts } from './analysis-chart';
import { latestPerStep } from './analysis-chart-utils';
import { DeploymentControls } from './deployment-controls';
import { DeploymentLog } from './deployment-log';
import { trafficSentence } from './deployment-log-utils';
import {
  analysisRows,
  failedCheck,
  failureRate,
  formatMetricValue,
  formatThreshold,
  humanizeMessage,
  metricLabel,
  progressDisplay,
  rolloutProgress,
  waitingSentence,
} from './deployment-utils';
import { DeploymentEtaStat } from './eta';
import { HookRuns } from './hook-runs';
import { RedeployButton } from './redeploy-button';
import { RolloutProgressView } from './rollout-progress';
import { StepTimeline } from './step-timeline';
import './deployment-detail-page.css';

const isActive = (d: Deployment) => d.status === 'pending' || d.status === 'running' || d.status === 'paused';

export function DeploymentDetailPage() {
  const { id } = useParams();
  const deployment = useDeployment(id);
  useDeploymentSubscription(id);
  useLiveDeploymentTraffic(id);

  return (
    <div className="page">
      <nav aria-label="Breadcrumb" className="breadcrumbs">
        <Link to={paths.deployments()}>Deployments</Link> / {id}
      </nav>
      {deployment.isPending ? (
        <LoadingState label="Loading deployment…" />
      ) : deployment.isError ? (
        <ErrorState
          title="Could not load this deployment"
          error={deployment.error}
          onRetry={() => void deployment.refetch()}
        />
      ) : (
        <DeploymentBody d={deployment.data} />
      )}
    </div>
  );
}

function DeploymentBody({ d }: { d: Deployment }) {
  const now = useNow();
  // Until the environment is known, assume it is protected: the stricter rule.
  const isProtected = useEnvironment(d.application, d.environment).data?.protected ?? true;
  const source = {
    status: d.status,
    waitingFor: d.waitingFor,
    progress: d.progress,
    version: d.release.version,
  };
  const progress = rolloutProgress(source, d.steps, now);
  const waiting = waitingSentence(d.waitingFor, { protected: isProtected, actor: d.actor });
  const shown = progressDisplay(d.status, progress, waiting);
  const cleaningUp = d.status === 'succeeded' && d.steps.some((s) => s.status === 'running');
  const rows = analysisRows(d.analysis);
  const rate = failureRate(d.traffic);
  const failed = failedCheck(rows);

  return (
    <>
      <div className="page__header">
        <h1>
          {d.kind === 'rollback'
            ? 'Rollback'
            : d.kind === 'promote'
              ? 'Promotion'
              : d.kind === 'drain'
                ? 'Drain'
                : 'Deployment'}{' '}
          of {d.release.version} to {d.environment}
        </h1>
        <p className="page__lead">
          {/* A live region of its own: people following a rollout hear when it ends. */}
          <span role="status" aria-label="Deployment status">
            <StatusBadge
              status={d.status}
              label={d.status === 'paused' && d.waitingFor ? 'Waiting' : undefined}
            />
          </span>{' '}
          {d.strategy}
          {d.fromVersion ? ` · from ${d.fromVersion}` : ''} · by {d.actor} · <Time iso={d.createdAt} />
        </p>
        {cleaningUp ? (
          <p className="muted">
            Live on {d.release.version}; still tidying up:{' '}
            {d.steps.find((s) => s.status === 'running')?.name.toLowerCase()}.
          </p>
        ) : null}
        {d.error ? (
          <p className="feedback feedback--error" role="alert">
            {humanizeMessage(d.error)}
          </p>
        ) : null}
        {failed ? (
          <section className="feedback feedback--error" aria-label="Failed check">
            Failed check: <strong>{metricLabel(failed.metric)}</strong> measured{' '}
            <strong>{formatMetricValue(failed.metric, failed.value)}</strong>, threshold{' '}
            {formatThreshold(failed)}
            {failed.step ? ` (step ${failed.step})` : ''}.
          </section>
        ) : null}
      </div>

      <div className="grid">
        <dl className="stats">
          <div className="stat">
            <dt>Progress</dt>
            <dd className={shown.kind === 'outcome' ? `outcome outcome--${shown.tone}` : undefined}>
              {shown.kind === 'waiting' ? 'Waiting for a person' : shown.text}
            </dd>
          </div>
          <div className="stat">
            <dt>Duration</dt>
            <dd>{formatDuration(d.startedAt, d.finishedAt, now)}</dd>
          </div>
          <DeploymentEtaStat d={d} />
          <div className="stat">
            <dt>Requests served</dt>
            <dd>{formatNumber(d.traffic.requests)}</dd>
          </div>
          <div className="stat">
            <dt>Requests failed</dt>
            <dd className={d.traffic.failed > 0 ? 'fail' : undefined}>
              {formatNumber(d.traffic.failed)}
              {rate !== null ? <span className="muted small"> ({formatPercent(rate, 2)})</span> : null}
            </dd>
          </div>
        </dl>
        <p className={d.traffic.failed > 0 ? 'traffic-proof fail' : 'traffic-proof'}>
          <strong>{trafficSentence(d.traffic)}</strong>{' '}
          <span className="muted small">
            through the router {isActive(d) ? 'so far (live)' : 'while this deployment ran'}
          </span>
        </p>
        {isActive(d) ? (
          <section className="card" aria-label="Rollout progress">
            <RolloutProgressView
              status={d.status}
              waitingFor={d.waitingFor}
              progress={d.progress}
              version={d.release.version}
              steps={d.steps}
              isProtected={isProtected}
              actor={d.actor}
            />
          </section>
        ) : null}

        <DeploymentControls deployment={d} />
        {isActive(d) ? null : <RedeployButton d={d} isProtected={isProtected} />}

        <div className="grid grid--2">
          <section className="card" aria-labelledby="steps-title">
            <h2 id="steps-title">Steps</h2>
            <StepTimeline steps={d.steps} deploymentStatus={d.status} waitingFor={d.waitingFor} />
          </section>
          <section className="card" aria-labelledby="about-title">
            <h2 id="about-title">About</h2>
            <dl className="facts">
              <div>
                <dt>Application</dt>
                <dd>
                  <Link to={paths.pipeline(d.application)}>{d.application}</Link>
                </dd>
              </div>
              <div>
                <dt>Environment</dt>
                <dd>
                  <Link to={paths.environment(d.application, d.environment)}>{d.environment}</Link>
                </dd>
              </div>
              <div>
                <dt>Release</dt>
                <dd>
                  <Link to={paths.release(d.application, d.release.version)}>{d.release.version}</Link>
                </dd>
              </div>
              <div>
                <dt>Artifact</dt>
                <dd className="mono break">{d.release.artifact}</dd>
              </div>
              <div>
                <dt>Reason</dt>
                <dd className="break">{d.reason ?? <span className="muted">—</span>}</dd>
              </div>
              <div>
                <dt>Started</dt>
                <dd>
                  <Time iso={d.startedAt} />
                </dd>
              </div>
              <div>
                <dt>Finished</dt>
                <dd>
                  <Time iso={d.finishedAt} />
                </dd>
              </div>
              <div>
                <dt>Id</dt>
                <dd className="mono break">{d.id}</dd>
              </div>
            </dl>
          </section>
        </div>

        <HookRuns d={d} isProtected={isProtected} />
        <DeploymentLog d={d} />

        <section aria-labelledby="analysis-title">
          <h2 id="analysis-title">Analysis</h2>
          {rows.length === 0 ? (
            <p className="muted">No analysis results yet.</p>
          ) : (
            <div className="grid">
              <AnalysisCharts analysis={d.analysis} />
              <div className="table-wrap">
                <table className="table">
                  <caption className="visually-hidden">Analysis results</caption>
                  <thead>
                    <tr>
                      <th scope="col">Step</th>
                      <th scope="col">Metric</th>
                      <th scope="col" className="num">
                        Value
                      </th>
                      <th scope="col" className="num">
                        Threshold
                      </th>
                      <th scope="col">Result</th>
                      <th scope="col">When</th>
                    </tr>
                  </thead>
                  <tbody>
                    {latestPerStep(rows).map((r) => (
                      <tr key={r.key}>
                        <td>{r.step ?? '—'}</td>
                        <td>{metricLabel(r.metric)}</td>
                        <td className="num">{formatMetricValue(r.metric, r.value)}</td>
                        <td className="num">{formatThreshold(r)}</td>
                        <td>
                          {r.verdict === 'inconclusive' ? (
                            <span className="muted">inconclusive</span>
                          ) : r.passed === null ? (
                            <span className="muted">—</span>
                          ) : r.passed ? (
                            <span className="pass">passed</span>
                          ) : (
                            <span className="fail">failed</span>
                          )}
                        </td>
                        <td>
                          <Time iso={r.at} />
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            </div>
          )}
        </section>
      </div>
    </>
  );
}
