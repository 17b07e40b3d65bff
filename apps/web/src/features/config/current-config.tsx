import type { ConfigEntry, ConfigVersion, Environment } from '@qubot/api-contract';
import { type Column, DataTable } from '../../components/data-table';
import { EmptyState } from '../../components/states';
import { Time } from '../../components/time';
import { SECRET_MASK } from './config-utils';

const COLUMNS: Column<ConfigEntry>[] = [
  { key: 'key', header: 'Key', rowHeader: true, cellClassName: 'mono', cell: (e) => e.key },
  {
    key: 'value',
    header: 'Value',
    cellClassName: 'mono break',
    cell: (e) =>
      e.secret ? (
        <>
          <span aria-hidden="true">{SECRET_MASK}</span> <span className="badge badge--muted">secret</span>
          <span className="visually-hidden"> value hidden</span>
        </>
      ) : (
        e.value
      ),
  },
];

/** The environment's configuration as it stands: version, author, entries (secrets masked). */
export function CurrentConfig({
  config,
  env,
  mayWrite,
}: {
  config: ConfigVersion;
  env: Environment;
  mayWrite: boolean;
}) {
  if (config.version === 0)
    return (
      <EmptyState title={`No configuration set for ${env.name}`}>
        {mayWrite ? null : <p>A deployer (a release-manager on protected environments) can set it.</p>}
      </EmptyState>
    );
  return (
    <>
      <p className="muted small">
        Version {config.version}
        {config.createdBy ? ` by ${config.createdBy}` : ''}
        {config.createdAt ? (
          <>
            {' '}
            · <Time iso={config.createdAt} />
          </>
        ) : null}
        {config.comment ? ` · “${config.comment}”` : ''}
      </p>
      <DataTable
        placeholder={config.entries.length === 0 ? <EmptyState title="This version has no entries" /> : null}
        caption={`Configuration of ${env.name}`}
        columns={COLUMNS}
        rows={config.entries}
        rowKey={(e) => e.key}
      />
    </>
  );
}
