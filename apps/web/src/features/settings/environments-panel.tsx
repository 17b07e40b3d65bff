import { Link } from 'react-router';
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
  const items = envs.data?.items ?? [];
  return (
    <div className="table-wrap">
      <table className="table">
        <caption>{app}</caption>
        <thead>
          <tr>
            <th scope="col">Environment</th>
            <th scope="col">Protected</th>
            <th scope="col">Requires approval</th>
            <th scope="col">Replicas</th>
          </tr>
        </thead>
        <tbody>
          {items.map((e) => (
            <tr key={e.name}>
              <th scope="row">
                <Link to={paths.environment(app, e.name)}>{e.name}</Link>
              </th>
              <td>{e.protected ? 'yes' : 'no'}</td>
              <td>{e.requiresApproval ? 'yes' : 'no'}</td>
              <td>{e.replicas}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
