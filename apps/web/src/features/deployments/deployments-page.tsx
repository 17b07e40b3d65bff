import { useSearchParams } from 'react-router';
import { TableFilters } from '../../components/data-table';
import { SelectField } from '../../components/field';
import { EmptyState, ErrorState, LoadingState } from '../../components/states';
import { useCurrentApplication } from '../../hooks/api/applications/queries';
import { useDeployments } from '../../hooks/api/deployments/queries';
import { DEPLOYMENT_STATUSES, isDeploymentStatus, statusLabel } from '../../lib/status-utils';
import { DeploymentsTable } from './deployments-table';

export function DeploymentsPage() {
  const [search, setSearch] = useSearchParams();
  const app = useCurrentApplication(search.get('app') ?? undefined);
  const env = search.get('env') ?? '';
  const rawStatus = search.get('status');
  const status = isDeploymentStatus(rawStatus) ? rawStatus : undefined;
  const deployments = useDeployments(
    { app: app.name, env: env || undefined, status },
    { enabled: Boolean(app.name) },
  );
  const items = deployments.data?.pages.flatMap((p) => p.items) ?? [];

  const setFilter = (key: string, value: string) => {
    const next = new URLSearchParams(search);
    if (value) next.set(key, value);
    else next.delete(key);
    setSearch(next, { replace: true });
  };

  return (
    <div className="page">
      <div className="page__header">
        <h1>Deployments{app.name ? <span className="page__subject"> · {app.name}</span> : null}</h1>
        <p className="page__lead">Every rollout, promotion and rollback, newest first.</p>
      </div>
      <DeploymentsTable
        filters={
          <TableFilters label="Filter deployments">
            <SelectField label="Environment" value={env} onChange={(e) => setFilter('env', e.target.value)}>
              <option value="">All</option>
              {(app.application?.environments ?? []).map((name) => (
                <option key={name} value={name}>
                  {name}
                </option>
              ))}
            </SelectField>
            <SelectField
              label="Status"
              value={status ?? ''}
              onChange={(e) => setFilter('status', e.target.value)}
            >
              <option value="">All</option>
              {DEPLOYMENT_STATUSES.map((s) => (
                <option key={s} value={s}>
                  {statusLabel(s)}
                </option>
              ))}
            </SelectField>
          </TableFilters>
        }
        placeholder={
          app.isPending || (app.name && deployments.isPending) ? (
            <LoadingState label="Loading deployments…" />
          ) : app.isError ? (
            <ErrorState error={app.error} onRetry={() => void app.refetch()} />
          ) : deployments.isError ? (
            <ErrorState
              title="Could not load deployments"
              error={deployments.error}
              onRetry={() => void deployments.refetch()}
            />
          ) : items.length === 0 ? (
            <EmptyState title={env || status ? 'No deployments match these filters' : 'No deployments yet'} />
          ) : null
        }
        items={items}
        caption="Deployments"
        paging={deployments}
      />
    </div>
  );
}
