import type { Environment } from '@qubot/api-contract';
import { Link } from 'react-router';
import { type Column, DataTable } from '../../components/data-table';
import { ErrorState, LoadingState } from '../../components/states';
import { useApplications } from '../../hooks/api/applications/queries';
import { useEnvironments } from '../../hooks/api/environments/queries';
import { paths } from '../../lib/paths';

/** Every application's environments with their protection, approval and replicas; changed on the environment's page. */
export function EnvironmentsPanel() {
  const apps = useApplications();
  return (
    <section className="card" aria-labelledby="settings-environments">
      <h2 id="settings-environments">Environments</h2>
      <p className="field__hint">
        Protection, approval and replicas are changed on each environment's page (Settings), with a reason.
      </p>
      {apps.isPending ? (
        <LoadingState label="Loading applications…" />
      ) : apps.isError ? (
        <ErrorState error={apps.error} onRetry={() => void apps.refetch()} />
      ) : (
        apps.data.items.map((a) => <ApplicationEnvironments key={a.name} app={a.name} />)
      )}
    </section>
  );
}

function ApplicationEnvironments({ app }: { app: string }) {
  const envs = useEnvironments(app);
  const columns: Column<Environment>[] = [
    {
      key: 'name',
      header: 'Environment',
      rowHeader: true,
      cell: (e) => <Link to={paths.environment(app, e.name)}>{e.name}</Link>,
    },
    { key: 'protected', header: 'Protected', cell: (e) => (e.protected ? 'yes' : 'no') },
    { key: 'approval', header: 'Requires approval', cell: (e) => (e.requiresApproval ? 'yes' : 'no') },
    { key: 'replicas', header: 'Replicas', cell: (e) => e.replicas },
  ];
  return (
    <DataTable
      caption={app}
      showCaption
      columns={columns}
      rows={envs.data?.items ?? []}
      rowKey={(e) => e.name}
    />
  );
}
