import type { Deployment } from '@qubot/api-contract';
import { Link } from 'react-router';
import { type Column, DataTable } from '../../components/data-table';
import { StatusBadge } from '../../components/status-badge';
import { Time } from '../../components/time';
import { formatDuration } from '../../lib/format-utils';
import { paths } from '../../lib/paths';

const COLUMNS: Column<Deployment>[] = [
  {
    key: 'release',
    header: 'Release',
    rowHeader: true,
    cell: (d) => (
      <>
        <Link
          to={paths.deployment(d.id)}
          aria-label={`Deployment of ${d.release.version} to ${d.environment}`}
        >
          {d.release.version}
        </Link>
        {d.fromVersion ? <span className="muted small"> from {d.fromVersion}</span> : null}
      </>
    ),
  },
  { key: 'environment', header: 'Environment', cell: (d) => d.environment },
  { key: 'status', header: 'Status', cell: (d) => <StatusBadge status={d.status} /> },
  { key: 'kind', header: 'Kind', cell: (d) => d.kind },
  { key: 'strategy', header: 'Strategy', cell: (d) => d.strategy },
  { key: 'by', header: 'By', cell: (d) => d.actor },
  { key: 'created', header: 'Created', cell: (d) => <Time iso={d.createdAt} /> },
  { key: 'duration', header: 'Duration', cell: (d) => formatDuration(d.startedAt, d.finishedAt, Date.now()) },
  {
    key: 'reason',
    header: 'Reason',
    cellClassName: 'break',
    cell: (d) => d.reason ?? <span className="muted">—</span>,
  },
];
const WITHOUT_ENVIRONMENT = COLUMNS.filter((c) => c.key !== 'environment');

/** The deployment history: all of an application's, or one environment's (`showEnvironment` off). */
export function DeploymentsTable({
  items,
  caption,
  showEnvironment = true,
  ...table
}: {
  items: readonly Deployment[];
  caption: string;
  showEnvironment?: boolean;
} & Pick<Parameters<typeof DataTable>[0], 'filters' | 'placeholder' | 'paging' | 'loadMoreClassName'>) {
  return (
    <DataTable
      {...table}
      caption={caption}
      columns={showEnvironment ? COLUMNS : WITHOUT_ENVIRONMENT}
      rows={items}
      rowKey={(d) => d.id}
    />
  );
}
