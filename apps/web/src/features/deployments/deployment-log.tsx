import type { Deployment } from '@qubot/api-contract';
import { ErrorState, LoadingState } from '../../components/states';
import { useDeploymentLog } from '../../hooks/api/observe/queries';
import { formatDateTime } from '../../lib/format-utils';
import { logVersion } from './deployment-log-utils';
import { humanizeMessage } from './deployment-utils';
import './deployment-log.css';

/** The deployment's events as a chronological log; read again whenever a live event changes it. */
export function DeploymentLog({ d }: { d: Deployment }) {
  const log = useDeploymentLog(d.id, logVersion(d));
  return (
    <section className="card" aria-labelledby="deployment-log-title">
      <h2 id="deployment-log-title">Log</h2>
      {log.isPending ? (
        <LoadingState label="Loading the log…" />
      ) : log.isError ? (
        <ErrorState error={log.error} onRetry={() => void log.refetch()} />
      ) : log.data.items.length === 0 ? (
        <p className="muted">Nothing logged yet.</p>
      ) : (
        // The live region wraps the list: role="log" on the <ol> itself would take its list semantics.
        <div
          className="deployment-log"
          role="log"
          aria-labelledby="deployment-log-title"
          // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrollable region must be reachable by keyboard
          tabIndex={0}
        >
          <ol className="deployment-log__list">
            {log.data.items.map((e) => (
              <li
                key={`${e.seq}:${e.message}`}
                className={e.level === 'info' ? undefined : e.level === 'error' ? 'fail' : 'warn'}
              >
                <time dateTime={e.at} className="mono small">
                  {formatDateTime(e.at)}
                </time>{' '}
                {e.level !== 'info' ? <strong>{e.level === 'error' ? 'Error: ' : 'Warning: '}</strong> : null}
                {humanizeMessage(e.message)}
              </li>
            ))}
          </ol>
        </div>
      )}
    </section>
  );
}
