import type { ApiToken, CreatedToken, RoleName } from '@qubot/api-contract';
import { type FormEvent, useId, useState } from 'react';
import { actionsHeader, type Column, DataTable } from '../../components/data-table';
import { Options, SelectField, TextField } from '../../components/field';
import { ActionFeedback, EmptyState, ErrorState, LoadingState } from '../../components/states';
import { Time } from '../../components/time';
import { useCreateToken, useRevokeToken } from '../../hooks/api/tokens/mutations';
import { useTokens } from '../../hooks/api/tokens/queries';
import { OneTimeSecret } from './one-time-secret';
import { parseExpiryDays, ROLE_OPTIONS, sortTokens, tokenNameProblem, tokenScope } from './settings-utils';

const ROLE_NAMES = ROLE_OPTIONS.map((r) => ({ value: r.value, label: r.value }));

/** Settings → API tokens: create one (its secret is shown once), list and revoke. */
export function TokensPanel() {
  const id = useId();
  const tokens = useTokens();
  const create = useCreateToken();
  const revoke = useRevokeToken();
  const [name, setName] = useState('');
  const [role, setRole] = useState<RoleName>('deployer');
  const [expiry, setExpiry] = useState('90');
  const [touched, setTouched] = useState(false);
  const [created, setCreated] = useState<CreatedToken | null>(null);
  const [confirmRevoke, setConfirmRevoke] = useState<string | null>(null);
  const nameProblem = tokenNameProblem(name);
  const days = parseExpiryDays(expiry);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    setTouched(true);
    if (nameProblem || days === null || create.isPending) return;
    create.mutate(
      { name: name.trim(), role, ...(days !== undefined ? { expiresInDays: days } : {}) },
      {
        onSuccess: (res) => {
          setCreated(res);
          setName('');
          setTouched(false);
        },
      },
    );
  };

  const columns: Column<ApiToken>[] = [
    {
      key: 'name',
      header: 'Name',
      rowHeader: true,
      cell: (t) => (
        <>
          {t.name} <span className="mono muted small">{t.prefix}…</span>
        </>
      ),
    },
    { key: 'role', header: 'Role', cell: (t) => t.role },
    { key: 'scope', header: 'Scope', cell: (t) => tokenScope(t) },
    { key: 'status', header: 'Status', cell: (t) => t.status },
    { key: 'expires', header: 'Expires', cell: (t) => (t.expiresAt ? <Time iso={t.expiresAt} /> : 'never') },
    { key: 'used', header: 'Last used', cell: (t) => <Time iso={t.lastUsedAt} /> },
    {
      key: 'actions',
      header: actionsHeader,
      cell: (t) =>
        t.status !== 'active' ? null : confirmRevoke === t.id ? (
          <div className="button-row">
            <button
              type="button"
              className="button button--danger button--small"
              disabled={revoke.isPending}
              onClick={() => revoke.mutate(t.id, { onSuccess: () => setConfirmRevoke(null) })}
            >
              Confirm revoke<span className="visually-hidden"> {t.name}</span>
            </button>
            <button
              type="button"
              className="button button--ghost button--small"
              onClick={() => setConfirmRevoke(null)}
            >
              Keep
            </button>
          </div>
        ) : (
          <button
            type="button"
            className="button button--ghost button--small"
            onClick={() => setConfirmRevoke(t.id)}
          >
            Revoke<span className="visually-hidden"> {t.name}</span>
          </button>
        ),
    },
  ];

  return (
    <section className="card" aria-labelledby={`${id}-tokens`}>
      <h2 id={`${id}-tokens`}>API tokens</h2>
      <form className="filters" aria-label="Create an API token" onSubmit={submit} noValidate>
        <TextField
          label="Name"
          error={touched ? nameProblem : null}
          value={name}
          onChange={(e) => setName(e.target.value)}
          autoComplete="off"
        />
        <SelectField label="Role" value={role} onChange={(e) => setRole(e.target.value as RoleName)}>
          <Options items={ROLE_NAMES} />
        </SelectField>
        <TextField
          label="Expires in (days)"
          hint="1–3650; empty for no expiry."
          invalid={touched && days === null}
          inputMode="numeric"
          value={expiry}
          onChange={(e) => setExpiry(e.target.value)}
        />
        <div className="button-row">
          <button type="submit" className="button" disabled={create.isPending}>
            {create.isPending ? 'Creating…' : 'Create token'}
          </button>
        </div>
      </form>
      <ActionFeedback error={create.error ?? revoke.error} pending={revoke.isPending ? 'Revoking…' : null} />
      {created ? (
        <OneTimeSecret
          label={`Secret of token ${created.token.name}`}
          value={created.secret}
          hint='Shown once: copy it now. Send it as "Authorization: Bearer <secret>".'
        />
      ) : null}
      <DataTable
        placeholder={
          tokens.isPending ? (
            <LoadingState label="Loading tokens…" />
          ) : tokens.isError ? (
            <ErrorState error={tokens.error} onRetry={() => void tokens.refetch()} />
          ) : tokens.data.items.length === 0 ? (
            <EmptyState title="No API tokens yet" />
          ) : null
        }
        caption="API tokens"
        columns={columns}
        rows={sortTokens(tokens.data?.items ?? [])}
        rowKey={(t) => t.id}
      />
    </section>
  );
}
