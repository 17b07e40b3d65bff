import type { Deployment } from '@qubot/api-contract';
import { Link } from 'react-router';
import { StatusBadge } from '../../components/status-badge';
import { Time } from '../../components/time';
import { formatDuration } from '../../lib/format-utils';
import { paths } from '../../lib/paths';

export function DeploymentsTable({
  items,
  caption,
  showEnvironment = true,
}: {
  items: readonly Deployment[];
  caption: string;
  showEnvironment?: boolean;
}) {
  const now = Date.now();
  return (
    <div className="table-wrap">
      <table className="table">
        <caption className="visually-hidden">{caption}</caption>
        <thead>
          <tr>
            <th scope="col">Release</th>
            {showEnvironment ? <th scope="col">Environment</th> : null}
            <th scope="col">Status</th>
            <th scope="col">Kind</th>
            <th scope="col">Strategy</th>
            <th scope="col">By</th>
            <th scope="col">Created</th>
            <th scope="col">Duration</th>
            <th scope="col">Reason</th>
          </tr>
        </thead>
        <tbody>
          {items.map((d) => (
            <tr key={d.id}>
              <th scope="row">
                <Link
                  to={paths.deployment(d.id)}
                  aria-label={`Deployment of ${d.release.version} to ${d.environment}`}
                >
                  {d.release.version}
                </Link>
                {d.fromVersion ? <span className="muted small"> from {d.fromVersion}</span> : null}
              </th>
              {showEnvironment ? <td>{d.environment}</td> : null}
              <td>
                <StatusBadge status={d.status} />
              </td>
              <td>{d.kind}</td>
              <td>{d.strategy}</td>
              <td>{d.actor}</td>
              <td>
                <Time iso={d.createdAt} />
              </td>
              <td>{formatDuration(d.startedAt, d.finishedAt, now)}</td>
              <td className="break">{d.reason ?? <span className="muted">—</span>}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
