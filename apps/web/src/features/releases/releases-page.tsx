import { Link, useParams } from 'react-router';
import { EmptyState, ErrorState, LoadingState } from '../../components/states';
import { StatusBadge } from '../../components/status-badge';
import { Time } from '../../components/time';
import { useCurrentApplication } from '../../hooks/api/applications/queries';
import { useEnvironments } from '../../hooks/api/environments/queries';
import { useReleases } from '../../hooks/api/releases/queries';
import { shortCommit } from '../../lib/format-utils';
import { paths } from '../../lib/paths';
import { usePermissions } from '../../lib/use-permissions';
import { matrixCell, parseTestResults } from './release-utils';
import './releases-page.css';

export function ReleasesPage() {
  const params = useParams();
  const app = useCurrentApplication(params.app);
  const releases = useReleases(app.name);
  const environments = useEnvironments(app.name ?? '');
  const envs = environments.data?.items ?? [];
  const perms = usePermissions();
  const items = releases.data?.pages.flatMap((p) => p.items) ?? [];

  return (
    <div className="page">
      <div className="page__header">
        <h1>Releases{app.name ? <span className="page__subject"> · {app.name}</span> : null}</h1>
        <p className="page__lead">
          Every release and where it runs, newest first: live, its last result in each environment, and the
          deploy action in the cell. CI registers releases through the API or{' '}
          <code>qubot release create</code>.
        </p>
      </div>
      {app.isPending || (app.name && releases.isPending) ? (
        <LoadingState label="Loading releases…" />
      ) : app.isError ? (
        <ErrorState error={app.error} onRetry={() => void app.refetch()} />
      ) : !app.name ? (
        <EmptyState title="No applications yet" />
      ) : releases.isError ? (
        <ErrorState
          title="Could not load releases"
          error={releases.error}
          onRetry={() => void releases.refetch()}
        />
      ) : items.length === 0 ? (
        <EmptyState title="No releases yet">
          <p>
            Register one with <code>qubot release create --version 1.0.0 --artifact …</code>.
          </p>
        </EmptyState>
      ) : (
        <>
          <div className="table-wrap">
            <table className="table">
              <caption className="visually-hidden">Releases of {app.name}</caption>
              <thead>
                <tr>
                  <th scope="col">Version</th>
                  {envs.map((e) => (
                    <th scope="col" key={e.name}>
                      {e.name}
                    </th>
                  ))}
                  <th scope="col">Tests</th>
                  <th scope="col">Commit</th>
                  <th scope="col">Created</th>
                  <th scope="col">By</th>
                </tr>
              </thead>
              <tbody>
                {items.map((r) => {
                  const tests = parseTestResults(r.testResults);
                  return (
                    <tr key={r.id}>
                      <th scope="row">
                        <Link to={paths.release(app.name!, r.version)}>{r.version}</Link>
                      </th>
                      {envs.map((e) => {
                        const cell = matrixCell(r, e.name);
                        const mayDeploy = perms.can('deploy', e.protected);
                        return (
                          <td key={e.name} className="matrix__cell">
                            {cell.kind === 'live' ? (
                              <span className="badge badge--ok">Live</span>
                            ) : cell.kind === 'status' ? (
                              <StatusBadge status={cell.status} />
                            ) : (
                              <span className="muted">—</span>
                            )}
                            {cell.kind !== 'live' && mayDeploy ? (
                              <Link
                                className="matrix__action small"
                                to={`${paths.release(app.name!, r.version)}?env=${encodeURIComponent(e.name)}`}
                                aria-label={`Deploy ${r.version} to ${e.name}`}
                              >
                                Deploy…
                              </Link>
                            ) : null}
                          </td>
                        );
                      })}
                      <td>
                        {tests ? (
                          <span className={tests.ok ? 'pass' : 'fail'}>{tests.label}</span>
                        ) : (
                          <span className="muted">—</span>
                        )}
                      </td>
                      <td className="mono">{shortCommit(r.commit) ?? '—'}</td>
                      <td>
                        <Time iso={r.createdAt} />
                      </td>
                      <td>{r.createdBy}</td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
          {releases.hasNextPage ? (
            <button
              type="button"
              className="button button--secondary load-more"
              onClick={() => void releases.fetchNextPage()}
              disabled={releases.isFetchingNextPage}
            >
              {releases.isFetchingNextPage ? 'Loading…' : 'Load more'}
            </button>
          ) : null}
        </>
      )}
    </div>
  );
}
