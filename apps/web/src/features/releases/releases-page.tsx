import type { Release } from '@qubot/api-contract';
import { Link, useParams } from 'react-router';
import { type Column, DataTable } from '../../components/data-table';
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

  const appName = app.name ?? '';
  const columns: Column<Release>[] = [
    {
      key: 'version',
      header: 'Version',
      rowHeader: true,
      cell: (r) => <Link to={paths.release(appName, r.version)}>{r.version}</Link>,
    },
    ...envs.map(
      (e): Column<Release> => ({
        key: `env-${e.name}`,
        header: e.name,
        cellClassName: 'matrix__cell',
        cell: (r) => {
          const cell = matrixCell(r, e.name);
          return (
            <>
              {cell.kind === 'live' ? (
                <span className="badge badge--ok">Live</span>
              ) : cell.kind === 'status' ? (
                <StatusBadge status={cell.status} />
              ) : (
                <span className="muted">—</span>
              )}
              {cell.kind !== 'live' && perms.can('deploy', e.protected) ? (
                <Link
                  className="matrix__action small"
                  to={`${paths.release(appName, r.version)}?env=${encodeURIComponent(e.name)}`}
                  aria-label={`Deploy ${r.version} to ${e.name}`}
                >
                  Deploy…
                </Link>
              ) : null}
            </>
          );
        },
      }),
    ),
    {
      key: 'tests',
      header: 'Tests',
      cell: (r) => {
        const tests = parseTestResults(r.testResults);
        return tests ? (
          <span className={tests.ok ? 'pass' : 'fail'}>{tests.label}</span>
        ) : (
          <span className="muted">—</span>
        );
      },
    },
    { key: 'commit', header: 'Commit', cellClassName: 'mono', cell: (r) => shortCommit(r.commit) ?? '—' },
    { key: 'created', header: 'Created', cell: (r) => <Time iso={r.createdAt} /> },
    { key: 'by', header: 'By', cell: (r) => r.createdBy },
  ];

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
      <DataTable
        placeholder={
          app.isPending || (app.name && releases.isPending) ? (
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
          ) : null
        }
        caption={`Releases of ${app.name}`}
        columns={columns}
        rows={items}
        rowKey={(r) => r.id}
        paging={releases}
      />
    </div>
  );
}
