import type { Release } from '@qubot/api-contract';
import { Link, useParams, useSearchParams } from 'react-router';
import { type Column, DataTable } from '../../components/data-table';
import { EmptyState, ErrorState, LoadingState } from '../../components/states';
import { StatusBadge } from '../../components/status-badge';
import { Time } from '../../components/time';
import { useCurrentApplication } from '../../hooks/api/applications/queries';
import { useRelease } from '../../hooks/api/releases/queries';
import { paths } from '../../lib/paths';
import { DeployReleaseForm } from './deploy-release-form';
import { parseTestResults, safeHttpUrl } from './release-utils';

const whereColumns = (app: string): Column<Release['deployedTo'][number]>[] => [
  {
    key: 'environment',
    header: 'Environment',
    rowHeader: true,
    cell: (d) => <Link to={paths.environment(app, d.environment)}>{d.environment}</Link>,
  },
  {
    key: 'live',
    header: 'Live',
    cell: (d) => (d.live ? <span className="badge badge--ok">live</span> : <span className="muted">no</span>),
  },
  {
    key: 'last',
    header: 'Last deployment',
    cell: (d) =>
      d.lastStatus ? (
        <Link to={paths.deployments({ app, env: d.environment })}>
          <StatusBadge status={d.lastStatus} />
        </Link>
      ) : (
        '—'
      ),
  },
];

export function ReleaseDetailPage() {
  const params = useParams();
  const app = useCurrentApplication(params.app);
  const release = useRelease(app.name, params.version);
  const r = release.data;

  return (
    <div className="page">
      <nav aria-label="Breadcrumb" className="breadcrumbs">
        <Link to={paths.releases(app.name)}>Releases</Link> / {params.version}
      </nav>
      <div className="page__header">
        <h1>
          Release {params.version}
          {app.name ? <span className="page__subject"> · {app.name}</span> : null}
        </h1>
      </div>
      {release.isPending ? (
        <LoadingState label="Loading release…" />
      ) : !r ? (
        <ErrorState
          title="Could not load this release"
          error={release.error}
          onRetry={() => void release.refetch()}
        />
      ) : (
        <ReleaseBody app={app.name!} release={r} />
      )}
    </div>
  );
}

function ReleaseBody({
  app,
  release: r,
}: {
  app: string;
  release: NonNullable<ReturnType<typeof useRelease>['data']>;
}) {
  const [search] = useSearchParams();
  const tests = parseTestResults(r.testResults);
  const buildUrl = safeHttpUrl(r.buildUrl);
  return (
    <div className="grid grid--2">
      <section className="card" aria-labelledby="release-facts">
        <h2 id="release-facts">Details</h2>
        <dl className="facts">
          <div>
            <dt>Artifact</dt>
            <dd className="mono break">{r.artifact}</dd>
          </div>
          <div>
            <dt>Commit</dt>
            <dd className="mono break">{r.commit ?? '—'}</dd>
          </div>
          <div>
            <dt>CI build</dt>
            <dd>
              {buildUrl ? (
                <a href={buildUrl} target="_blank" rel="noopener noreferrer">
                  Open build
                </a>
              ) : (
                <span className="muted">—</span>
              )}
            </dd>
          </div>
          <div>
            <dt>Tests</dt>
            <dd>
              {tests ? (
                <>
                  <span className={tests.ok ? 'pass' : 'fail'}>{tests.label}</span>
                  {tests.url ? (
                    <>
                      {' '}
                      <a href={tests.url} target="_blank" rel="noopener noreferrer">
                        report
                      </a>
                    </>
                  ) : null}
                </>
              ) : (
                <span className="muted">No test results</span>
              )}
            </dd>
          </div>
          <div>
            <dt>Created</dt>
            <dd>
              <Time iso={r.createdAt} /> by {r.createdBy}
            </dd>
          </div>
        </dl>
      </section>

      <section className="card" aria-labelledby="release-where">
        <h2 id="release-where">Where deployed</h2>
        {r.deployedTo.length === 0 ? (
          <p className="muted">Not deployed anywhere yet.</p>
        ) : (
          <DataTable columns={whereColumns(app)} rows={r.deployedTo} rowKey={(d) => d.environment} />
        )}
      </section>

      <section className="card" aria-labelledby="release-changelog">
        <h2 id="release-changelog">Changelog</h2>
        {r.changelog ? <pre className="changelog">{r.changelog}</pre> : <EmptyState title="No changelog" />}
      </section>

      <DeployReleaseForm app={app} version={r.version} initialEnv={search.get('env') ?? ''} />
    </div>
  );
}
