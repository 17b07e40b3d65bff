import { type FormEvent, useId } from 'react';
import { useSearchParams } from 'react-router';
import { EmptyState, ErrorState, LoadingState } from '../../components/states';
import { Time } from '../../components/time';
import { type AuditFilters, auditCsvUrl, useAudit } from '../../hooks/api/audit/queries';

const FIELDS: { key: keyof AuditFilters; label: string; type: string }[] = [
  { key: 'actor', label: 'Actor', type: 'text' },
  { key: 'action', label: 'Action', type: 'text' },
  { key: 'env', label: 'Environment', type: 'text' },
  { key: 'from', label: 'From', type: 'date' },
  { key: 'to', label: 'To', type: 'date' },
];

export function AuditPage() {
  const [search, setSearch] = useSearchParams();
  const filters: AuditFilters = Object.fromEntries(
    FIELDS.map((f) => [f.key, search.get(f.key) ?? undefined]),
  );
  const audit = useAudit(filters);
  const items = audit.data?.pages.flatMap((p) => p.items) ?? [];
  const id = useId();

  const apply = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const data = new FormData(event.currentTarget);
    const next = new URLSearchParams();
    for (const f of FIELDS) {
      const value = String(data.get(f.key) ?? '').trim();
      if (value) next.set(f.key, value);
    }
    setSearch(next);
  };

  return (
    <div className="page">
      <div className="page__header">
        <h1>Audit log</h1>
        <p className="page__lead">Every change, who made it and why. Entries cannot be edited or deleted.</p>
      </div>
      <form className="filters" aria-label="Filter audit log" onSubmit={apply} key={search.toString()}>
        {FIELDS.map((f) => (
          <div className="field" key={f.key}>
            <label className="field__label" htmlFor={`${id}-${f.key}`}>
              {f.label}
            </label>
            <input
              id={`${id}-${f.key}`}
              name={f.key}
              type={f.type}
              className="field__input"
              defaultValue={filters[f.key] ?? ''}
            />
          </div>
        ))}
        <div className="button-row">
          <button type="submit" className="button">
            Apply
          </button>
          <a className="button button--secondary" href={auditCsvUrl(filters)} download>
            Export CSV
          </a>
        </div>
      </form>
      {audit.isPending ? (
        <LoadingState label="Loading audit log…" />
      ) : audit.isError ? (
        <ErrorState
          title="Could not load the audit log"
          error={audit.error}
          onRetry={() => void audit.refetch()}
        />
      ) : items.length === 0 ? (
        <EmptyState title="No audit entries match" />
      ) : (
        <>
          <div className="table-wrap">
            <table className="table">
              <caption className="visually-hidden">Audit entries</caption>
              <thead>
                <tr>
                  <th scope="col">When</th>
                  <th scope="col">Actor</th>
                  <th scope="col">Action</th>
                  <th scope="col">Target</th>
                  <th scope="col">Reason</th>
                  <th scope="col">Request</th>
                </tr>
              </thead>
              <tbody>
                {items.map((e) => (
                  <tr key={e.id}>
                    <td>
                      <Time iso={e.createdAt ?? e.at} />
                    </td>
                    <td>
                      {e.actor}
                      {e.role ? <span className="muted small"> ({e.role})</span> : null}
                    </td>
                    <td className="mono">{e.action}</td>
                    <td className="break">{e.target ?? '—'}</td>
                    <td className="break">{e.reason ?? <span className="muted">—</span>}</td>
                    <td className="mono small">
                      {e.requestId ?? '—'}
                      {e.clientAddress ? <span className="muted"> · {e.clientAddress}</span> : null}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          {audit.hasNextPage ? (
            <button
              type="button"
              className="button button--secondary load-more"
              onClick={() => void audit.fetchNextPage()}
              disabled={audit.isFetchingNextPage}
            >
              {audit.isFetchingNextPage ? 'Loading…' : 'Load more'}
            </button>
          ) : null}
        </>
      )}
    </div>
  );
}
