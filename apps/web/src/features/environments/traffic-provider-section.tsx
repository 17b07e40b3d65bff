import type { Environment } from '@qubot/api-contract';
import { ErrorState, LoadingState } from '../../components/states';
import { useTrafficProvider } from '../../hooks/api/environments/queries';
import { PROVIDER_NAME, providerHealth, TARGET_STATE_LABEL, targetRows } from './traffic-provider-utils';

/**
 * What serves the environment's address, and its own view of the targets when it checks them
 * itself (HAProxy). Admins change the provider in the settings below.
 */
export function TrafficProviderSection({ app, env }: { app: string; env: Environment }) {
  const provider = useTrafficProvider(app, env.name);
  const status = provider.data;
  return (
    <section className="card" aria-labelledby="traffic-provider-title">
      <h2 id="traffic-provider-title">Traffic provider</h2>
      {provider.isPending ? (
        <LoadingState label="Loading the traffic provider…" />
      ) : provider.isError ? (
        <ErrorState error={provider.error} onRetry={() => void provider.refetch()} />
      ) : status ? (
        <>
          <dl className="facts">
            <div>
              <dt>Provider</dt>
              <dd>{PROVIDER_NAME[status.kind]}</dd>
            </div>
            <div>
              <dt>Address</dt>
              <dd>{status.address ?? <span className="muted">none yet</span>}</dd>
            </div>
            <div>
              <dt>Health</dt>
              <dd>
                {(() => {
                  const h = providerHealth(status, env.router);
                  return <span className={`health health--${h.tone}`}>{h.label}</span>;
                })()}
              </dd>
            </div>
            <div>
              <dt>Latency figures</dt>
              <dd>
                {status.capabilities.windowStats
                  ? 'measured (p95 per pool)'
                  : 'not measured: requests and errors only; canary latency thresholds cannot pass'}
              </dd>
            </div>
          </dl>
          {status.capabilities.checksTargets && status.health?.targets ? (
            <div className="table-wrap">
              <table
                className="table"
                aria-label={`Targets of ${env.name} as ${PROVIDER_NAME[status.kind]} sees them`}
              >
                <thead>
                  <tr>
                    <th scope="col">Pool</th>
                    <th scope="col">Target</th>
                    <th scope="col">Instance</th>
                    <th scope="col">State</th>
                    <th scope="col">Health check</th>
                  </tr>
                </thead>
                <tbody>
                  {targetRows(status.health.targets, env.instances).map((t) => (
                    <tr key={`${t.pool}-${t.target}`}>
                      <td>{t.pool}</td>
                      <td>{t.target}</td>
                      <td>{t.instance ?? <span className="muted">—</span>}</td>
                      <td>{TARGET_STATE_LABEL[t.state]}</td>
                      <td>
                        <span className={`health health--${t.up ? 'ok' : 'bad'}`}>
                          {t.up ? 'passing' : 'failing'} ({t.check || 'not checked yet'})
                        </span>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          ) : null}
        </>
      ) : null}
    </section>
  );
}
