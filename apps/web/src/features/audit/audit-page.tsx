import type { AuditEntry } from '@qubot/api-contract';
import type { FormEvent } from 'react';
import { Link, useSearchParams } from 'react-router';
import { type Column, DataTable, TableFilters } from '../../components/data-table';
import { CheckField, Options, SelectField, TextField } from '../../components/field';
import { EmptyState, ErrorState, LoadingState } from '../../components/states';
import { Time } from '../../components/time';
import { type AuditFilters, auditCsvUrl, useAudit } from '../../hooks/api/audit/queries';
import { paths } from '../../lib/paths';
import { AUDIT_ACTIONS } from './audit-utils';

const TEXT_FIELDS: { key: 'actor' | 'env' | 'from' | 'to'; label: string; type: string }[] = [
  { key: 'actor', label: 'Actor', type: 'text' },
  { key: 'env', label: 'Environment', type: 'text' },
  { key: 'from', label: 'From', type: 'date' },
  { key: 'to', label: 'To', type: 'date' },
];

const COLUMNS: Column<AuditEntry>[] = [
  { key: 'when', header: 'When', cell: (e) => <Time iso={e.at} /> },
  {
    key: 'actor',
    header: 'Actor',
    cell: (e) => (
      <>
        {e.actor}
        {e.role ? <span className="muted small"> ({e.role})</span> : null}
      </>
    ),
  },
  { key: 'action', header: 'Action', cellClassName: 'mono', cell: (e) => e.action },
  {
    key: 'target',
    header: 'Target',
    cellClassName: 'break',
    cell: (e) =>
      e.deploymentId ? (
        <Link to={paths.deployment(e.deploymentId)} title="Open the deployment">
          {e.target ?? 'deployment'}
        </Link>
      ) : (
        (e.target ?? '—')
      ),
  },
  {
    key: 'version',
    header: 'Version',
    cellClassName: 'mono',
    cell: (e) => {
      const app = appOf(e.target);
      return e.version && app ? (
        <Link to={paths.release(app, e.version)}>{e.version}</Link>
      ) : (
        <span className="muted">—</span>
      );
    },
  },
  {
    key: 'reason',
    header: 'Reason',
    cellClassName: 'break',
    cell: (e) => e.reason ?? <span className="muted">—</span>,
  },
  {
    key: 'request',
    header: 'Request',
    cellClassName: 'mono small',
    cell: (e) => (
      <>
        {e.requestId ?? '—'}
        {e.clientIp ? <span className="muted"> · {e.clientIp}</span> : null}
      </>
    ),
  },
];

/** The application part of a target such as `qubot-one/production` or `qubot-one@1.2.0`. */
const appOf = (target: string | null) => (target ? (target.split(/[/@]/)[0] ?? null) : null);

export function AuditPage() {
  const [search, setSearch] = useSearchParams();
  const filters: AuditFilters = {
    actor: search.get('actor') ?? undefined,
    action: search.get('action') ?? undefined,
    env: search.get('env') ?? undefined,
    from: search.get('from') ?? undefined,
    to: search.get('to') ?? undefined,
    hideSignIns: search.get('hideSignIns') === '1',
  };
  const audit = useAudit(filters);
  const items = audit.data?.pages.flatMap((p) => p.items) ?? [];

  const apply = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const data = new FormData(event.currentTarget);
    const next = new URLSearchParams();
    for (const key of ['actor', 'action', 'env', 'from', 'to']) {
      const value = String(data.get(key) ?? '').trim();
      if (value) next.set(key, value);
    }
    if (data.get('hideSignIns')) next.set('hideSignIns', '1');
    setSearch(next);
  };

  const known = AUDIT_ACTIONS.some((a) => a.value === filters.action);

  return (
    <div className="page">
      <div className="page__header">
        <h1>Audit log</h1>
        <p className="page__lead">Every change, who made it and why. Entries cannot be edited or deleted.</p>
      </div>
      <DataTable
        filters={
          <TableFilters label="Filter audit log" onSubmit={apply} key={search.toString()}>
            <SelectField label="Action" name="action" defaultValue={filters.action ?? ''}>
              <option value="">Any action</option>
              {!known && filters.action ? <option value={filters.action}>{filters.action}</option> : null}
              <Options items={AUDIT_ACTIONS} />
            </SelectField>
            {TEXT_FIELDS.map((f) => (
              <TextField
                label={f.label}
                key={f.key}
                name={f.key}
                type={f.type}
                defaultValue={filters[f.key] ?? ''}
              />
            ))}
            <CheckField label="Hide sign-ins" name="hideSignIns" defaultChecked={filters.hideSignIns} />
            <div className="button-row">
              <button type="submit" className="button">
                Apply
              </button>
              <a className="button button--secondary" href={auditCsvUrl(filters)} download>
                Export CSV
              </a>
            </div>
          </TableFilters>
        }
        placeholder={
          audit.isPending ? (
            <LoadingState label="Loading audit log…" />
          ) : audit.isError ? (
            <ErrorState
              title="Could not load the audit log"
              error={audit.error}
              onRetry={() => void audit.refetch()}
            />
          ) : items.length === 0 ? (
            <EmptyState title="No audit entries match" />
          ) : null
        }
        caption="Audit entries"
        columns={COLUMNS}
        rows={items}
        rowKey={(e) => e.id}
        paging={audit}
      />
    </div>
  );
}
