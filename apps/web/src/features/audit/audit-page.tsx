import { type FormEvent, useId } from 'react';
import { Link, useSearchParams } from 'react-router';
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
  const id = useId();

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
      <form className="filters" aria-label="Filter audit log" onSubmit={apply} key={search.toString()}>
        <div className="field">
          <label className="field__label" htmlFor={`${id}-action`}>
            Action
          </label>
          <select
            id={`${id}-action`}
            name="action"
            className="field__input"
            defaultValue={filters.action ?? ''}
          >
            <option value="">Any action</option>
            {!known && filters.action ? <option value={filters.action}>{filters.action}</option> : null}
            {AUDIT_ACTIONS.map((a) => (
              <option key={a.value} value={a.value}>
                {a.label}
              </option>
            ))}
          </select>
        </div>
        {TEXT_FIELDS.map((f) => (
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
        <label className="field field--check">
          <input type="checkbox" name="hideSignIns" defaultChecked={filters.hideSignIns} /> Hide sign-ins
        </label>
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
                  <th scope="col">Version</th>
                  <th scope="col">Reason</th>
                  <th scope="col">Request</th>
                </tr>
              </thead>
              <tbody>
                {items.map((e) => {
                  const app = appOf(e.target);
                  return (
                    <tr key={e.id}>
                      <td>
                        <Time iso={e.at} />
                      </td>
                      <td>
                        {e.actor}
                        {e.role ? <span className="muted small"> ({e.role})</span> : null}
                      </td>
                      <td className="mono">{e.action}</td>
                      <td className="break">
                        {e.deploymentId ? (
                          <Link to={paths.deployment(e.deploymentId)} title="Open the deployment">
                            {e.target ?? 'deployment'}
                          </Link>
                        ) : (
                          (e.target ?? '—')
                        )}
                      </td>
                      <td className="mono">
                        {e.version && app ? (
                          <Link to={paths.release(app, e.version)}>{e.version}</Link>
                        ) : (
                          <span className="muted">—</span>
                        )}
                      </td>
                      <td className="break">{e.reason ?? <span className="muted">—</span>}</td>
                      <td className="mono small">
                        {e.requestId ?? '—'}
                        {e.clientIp ? <span className="muted"> · {e.clientIp}</span> : null}
                      </td>
                    </tr>
                  );
                })}
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
