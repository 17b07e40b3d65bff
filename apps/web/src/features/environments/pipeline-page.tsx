import type { ReactNode } from 'react';
import { Link, useNavigate, useParams } from 'react-router';
import { SelectField } from '../../components/field';
import { EmptyState, ErrorState, LoadingState } from '../../components/states';
import { useApplications, useCurrentApplication } from '../../hooks/api/applications/queries';
import { useEnvironments } from '../../hooks/api/environments/queries';
import { paths } from '../../lib/paths';
import { EnvironmentCard } from './environment-card';
import './pipeline-page.css';

export function PipelinePage() {
  const params = useParams();
  const app = useCurrentApplication(params.app);
  const environments = useEnvironments(app.name);

  if (app.isPending)
    return (
      <PageShell>
        <LoadingState label="Loading applications…" />
      </PageShell>
    );
  if (app.isError)
    return (
      <PageShell>
        <ErrorState error={app.error} onRetry={() => void app.refetch()} />
      </PageShell>
    );
  if (app.isEmpty || !app.name) {
    return (
      <PageShell>
        <EmptyState title="No applications yet">
          <p>
            Register an application through the API or the <code>qubot</code> CLI, then come back.
          </p>
        </EmptyState>
      </PageShell>
    );
  }

  const items = environments.data?.items ?? [];
  return (
    <PageShell app={app.name} description={app.application?.description ?? null}>
      {environments.isPending ? (
        <LoadingState label="Loading environments…" />
      ) : environments.isError ? (
        <ErrorState
          title="Could not load the pipeline"
          error={environments.error}
          onRetry={() => void environments.refetch()}
        />
      ) : items.length === 0 ? (
        <EmptyState title="This application has no environments yet" />
      ) : (
        <ol className="pipeline" aria-label={`${app.name} pipeline`}>
          {items.map((env, index) => (
            <li key={env.name} className="pipeline__stage">
              <EnvironmentCard app={app.name!} environments={items} index={index} />
            </li>
          ))}
        </ol>
      )}
    </PageShell>
  );
}

function PageShell({
  app,
  description,
  children,
}: {
  app?: string;
  description?: string | null;
  children: ReactNode;
}) {
  return (
    <div className="page">
      <div className="page__header">
        <h1>Pipeline{app ? <span className="page__subject"> · {app}</span> : null}</h1>
        {app ? <ApplicationPicker current={app} /> : null}
        {app ? (
          <p className="page__lead">
            {description ? `${description} · ` : ''}
            <Link to={paths.releases(app)}>Releases</Link> ·{' '}
            <Link to={paths.deployments({ app })}>Deployment history</Link> ·{' '}
            <Link to={paths.parity(app)}>Compare environments</Link>
          </p>
        ) : null}
      </div>
      {children}
    </div>
  );
}

/** With more than one application, choose whose pipeline to show (`/apps/:app`). */
function ApplicationPicker({ current }: { current: string }) {
  const apps = useApplications();
  const navigate = useNavigate();
  const items = apps.data?.items ?? [];
  if (items.length < 2) return null;
  return (
    <SelectField
      label="Application"
      value={current}
      onChange={(e) => navigate(paths.pipeline(e.target.value))}
    >
      {items.map((a) => (
        <option key={a.name} value={a.name}>
          {a.name}
        </option>
      ))}
    </SelectField>
  );
}
