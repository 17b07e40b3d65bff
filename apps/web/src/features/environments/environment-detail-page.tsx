import type { Environment } from '@qubot/api-contract';
import { Link, useParams } from 'react-router';
import { EmptyState, ErrorState, LoadingState } from '../../components/states';
import { ColorChip } from '../../components/status-badge';
import { Time } from '../../components/time';
import { useDeployments } from '../../hooks/api/deployments/queries';
import { useEnvironment, useEnvironments } from '../../hooks/api/environments/queries';
import { paths } from '../../lib/paths';
import { ConfigSection } from '../config/config-section';
import { DeploymentsTable } from '../deployments/deployments-table';
import { AnalysisProviderSection } from './analysis-provider-section';
import { EnvironmentCard } from './environment-card';
import { EnvironmentSettingsForm } from './environment-settings-form';
import { FreezeWindowsSection } from './freeze-windows-section';
import { HooksForm } from './hooks-form';
import { InstancesSection } from './instance-logs';
import { EnvironmentMetricsChart } from './metrics-chart';
import { PolicyForm } from './policy-form';
import { ResourcesSection } from './resources-section';
import { RuntimeTargetSection } from './runtime-target-section';
import { ScalingSection } from './scaling-section';
import { TrafficProviderSection } from './traffic-provider-section';

export function EnvironmentDetailPage() {
  const { app = '', env = '' } = useParams();
  const detail = useEnvironment(app, env);
  const list = useEnvironments(app);

  return (
    <div className="page">
      <nav aria-label="Breadcrumb" className="breadcrumbs">
        <Link to={paths.pipeline(app)}>Pipeline</Link> / {env}
      </nav>
      <div className="page__header">
        <h1>
          {env}
          <span className="page__subject"> · {app}</span>
        </h1>
      </div>
      {detail.isPending ? (
        <LoadingState label="Loading environment…" />
      ) : detail.isError ? (
        <ErrorState
          title="Could not load this environment"
          error={detail.error}
          onRetry={() => void detail.refetch()}
        />
      ) : (
        <EnvironmentBody app={app} env={detail.data} pipeline={list.data?.items ?? null} />
      )}
    </div>
  );
}

function EnvironmentBody({
  app,
  env,
  pipeline,
}: {
  app: string;
  env: Environment;
  pipeline: readonly Environment[] | null;
}) {
  // Promotion needs the environment before this one, so the card gets the whole pipeline
  // with this page's fresher copy swapped in.
  const environments = pipeline ? pipeline.map((e) => (e.name === env.name ? env : e)) : [env];
  const index = Math.max(
    0,
    environments.findIndex((e) => e.name === env.name),
  );
  const history = useDeployments({ app, env: env.name, limit: 20 });
  const historyItems = history.data?.pages.flatMap((p) => p.items) ?? [];

  return (
    <div className="grid">
      <div className="grid grid--2">
        <EnvironmentCard app={app} environments={environments} index={index} />
        <section className="card" aria-labelledby="env-settings">
          <h2 id="env-settings">State</h2>
          <dl className="facts">
            <div>
              <dt>Live</dt>
              <dd>{env.live?.version ?? <span className="muted">nothing</span>}</dd>
            </div>
            <div>
              <dt>Previous</dt>
              <dd>{env.previous?.version ?? <span className="muted">—</span>}</dd>
            </div>
            <div>
              <dt>Active colour</dt>
              <dd>
                <ColorChip color={env.activeColor} />
              </dd>
            </div>
            <div>
              <dt>Replicas</dt>
              <dd>{env.replicas}</dd>
            </div>
            <div>
              <dt>Traffic provider</dt>
              <dd>
                {env.trafficProvider === 'kubernetes'
                  ? 'Kubernetes (the cluster routes: Services, HTTPRoute)'
                  : env.trafficProvider === 'haproxy'
                    ? 'HAProxy'
                    : 'Node router'}
              </dd>
            </div>
            <div>
              <dt>Protected</dt>
              <dd>{env.protected ? 'yes' : 'no'}</dd>
            </div>
            <div>
              <dt>Needs approval</dt>
              <dd>{env.requiresApproval ? 'yes' : 'no'}</dd>
            </div>
            <div>
              <dt>Pipeline position</dt>
              <dd>{env.position + 1}</dd>
            </div>
            <div>
              <dt>Updated</dt>
              <dd>
                <Time iso={env.updatedAt} />
              </dd>
            </div>
          </dl>
        </section>
      </div>

      <TrafficProviderSection app={app} env={env} />
      <RuntimeTargetSection env={env} />

      <EnvironmentSettingsForm app={app} env={env} />

      <AnalysisProviderSection app={app} env={env} />

      <ScalingSection app={app} env={env} />
      <PolicyForm app={app} env={env.name} isProtected={env.protected} />
      <HooksForm app={app} env={env.name} isProtected={env.protected} />

      <EnvironmentMetricsChart app={app} env={env.name} />

      <ResourcesSection app={app} env={env} />
      <InstancesSection app={app} env={env} />

      <ConfigSection app={app} env={env} />

      <FreezeWindowsSection app={app} env={env.name} />

      <section aria-labelledby="history-title">
        <h2 id="history-title">History</h2>
        {history.isPending ? (
          <LoadingState label="Loading history…" />
        ) : history.isError ? (
          <ErrorState error={history.error} onRetry={() => void history.refetch()} />
        ) : historyItems.length === 0 ? (
          <EmptyState title={`Nothing has been deployed to ${env.name} yet`} />
        ) : (
          <>
            <DeploymentsTable
              items={historyItems}
              caption={`Deployments to ${env.name}`}
              showEnvironment={false}
            />
            <p>
              <Link to={paths.deployments({ app, env: env.name })}>All deployments to {env.name}</Link>
            </p>
          </>
        )}
      </section>
    </div>
  );
}
