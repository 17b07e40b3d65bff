import type { RoleName, User } from '@qubot/api-contract';
import { type FormEvent, useId, useState } from 'react';
import { ActionFeedback, EmptyState, ErrorState, LoadingState } from '../../components/states';
import { Time } from '../../components/time';
import { useCurrentUser } from '../../hooks/api/auth/queries';
import { type CreatedToken, useCreateToken, useRevokeToken } from '../../hooks/api/tokens/mutations';
import { useTokens } from '../../hooks/api/tokens/queries';
import { useCreateUser, useUpdateUser } from '../../hooks/api/users/mutations';
import { useUsers } from '../../hooks/api/users/queries';
import { EnvironmentsPanel } from './environments-panel';
import {
  isAdmin,
  parseExpiryDays,
  ROLE_OPTIONS,
  sortTokens,
  tokenNameProblem,
  tokenScope,
  usernameProblem,
  userStatus,
} from './settings-utils';
import './one-time-secret.css';

export function SettingsPage() {
  const me = useCurrentUser();
  const admin = isAdmin(me.data?.role);
  return (
    <div className="page">
      <div className="page__header">
        <h1>Settings</h1>
        <p className="page__lead">
          People who may use Qubot Deploy, API tokens for CI and scripts, and how each environment is guarded.
        </p>
      </div>
      {me.isPending ? (
        <LoadingState label="Checking your role…" />
      ) : me.isError ? (
        <ErrorState error={me.error} onRetry={() => void me.refetch()} />
      ) : !admin ? (
        <EmptyState title="Settings need the admin role">
          <p>
            You are signed in as {me.data?.username ?? 'nobody'}
            {me.data?.role ? ` (${me.data.role})` : ''}. Ask an admin to manage users and API tokens.
          </p>
        </EmptyState>
      ) : (
        <div className="grid">
          <UsersPanel self={me.data?.username ?? ''} />
          <TokensPanel />
          <EnvironmentsPanel />
        </div>
      )}
    </div>
  );
}

function OneTimeSecret({ label, value, hint }: { label: string; value: string; hint: string }) {
  const id = useId();
  const [copied, setCopied] = useState<'yes' | 'no' | null>(null);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(value);
      setCopied('yes');
    } catch {
      setCopied('no');
    }
  };
  return (
    <section className="secret-once" aria-label={label}>
      <label className="field__label" htmlFor={id}>
        {label}
      </label>
      <div className="secret-once__row">
        <input
          id={id}
          className="field__input mono"
          readOnly
          value={value}
          onFocus={(e) => e.target.select()}
        />
        <button type="button" className="button button--secondary" onClick={() => void copy()}>
          Copy
        </button>
      </div>
      <p className="field__hint">{hint}</p>
      <p className="feedback" role="status" aria-live="polite">
        {copied === 'yes'
          ? 'Copied to the clipboard.'
          : copied === 'no'
            ? 'Copy failed: select and copy it.'
            : ''}
      </p>
    </section>
  );
}

function UsersPanel({ self }: { self: string }) {
  const id = useId();
  const users = useUsers();
  const create = useCreateUser();
  const update = useUpdateUser();
  const [username, setUsername] = useState('');
  const [role, setRole] = useState<RoleName>('viewer');
  const [displayName, setDisplayName] = useState('');
  const [touched, setTouched] = useState(false);
  const [password, setPassword] = useState<{ username: string; value: string } | null>(null);
  const [confirmDisable, setConfirmDisable] = useState<string | null>(null);
  const problem = usernameProblem(username);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    setTouched(true);
    if (problem || create.isPending) return;
    create.mutate(
      { username, role, ...(displayName.trim() ? { displayName: displayName.trim() } : {}) },
      {
        onSuccess: (res) => {
          setPassword(
            res.oneTimePassword ? { username: res.user.username, value: res.oneTimePassword } : null,
          );
          setUsername('');
          setDisplayName('');
          setTouched(false);
        },
      },
    );
  };

  const change = (user: User, body: Parameters<typeof update.mutate>[0]) =>
    update.mutate(body, {
      onSuccess: (res) => {
        setConfirmDisable(null);
        if (res.oneTimePassword) setPassword({ username: user.username, value: res.oneTimePassword });
      },
    });

  return (
    <section className="card" aria-labelledby={`${id}-users`}>
      <h2 id={`${id}-users`}>Users</h2>
      <form className="filters" aria-label="Create a user" onSubmit={submit} noValidate>
        <div className="field">
          <label className="field__label" htmlFor={`${id}-username`}>
            Username
          </label>
          <input
            id={`${id}-username`}
            className="field__input"
            value={username}
            onChange={(e) => setUsername(e.target.value)}
            aria-invalid={touched && problem ? true : undefined}
            aria-describedby={touched && problem ? `${id}-username-error` : undefined}
            autoComplete="off"
          />
          {touched && problem ? (
            <p id={`${id}-username-error`} className="feedback feedback--error">
              {problem}
            </p>
          ) : null}
        </div>
        <div className="field">
          <label className="field__label" htmlFor={`${id}-display`}>
            Display name (optional)
          </label>
          <input
            id={`${id}-display`}
            className="field__input"
            maxLength={200}
            value={displayName}
            onChange={(e) => setDisplayName(e.target.value)}
          />
        </div>
        <div className="field">
          <label className="field__label" htmlFor={`${id}-role`}>
            Role
          </label>
          <select
            id={`${id}-role`}
            className="field__input"
            value={role}
            onChange={(e) => setRole(e.target.value as RoleName)}
          >
            {ROLE_OPTIONS.map((r) => (
              <option key={r.value} value={r.value}>
                {r.label}
              </option>
            ))}
          </select>
        </div>
        <div className="button-row">
          <button type="submit" className="button" disabled={create.isPending}>
            {create.isPending ? 'Creating…' : 'Create user'}
          </button>
        </div>
      </form>
      <ActionFeedback error={create.error ?? update.error} pending={update.isPending ? 'Saving…' : null} />
      {password ? (
        <OneTimeSecret
          label={`One-time password for ${password.username}`}
          value={password.value}
          hint="Shown once. They must change it at first sign-in."
        />
      ) : null}
      {users.isPending ? (
        <LoadingState label="Loading users…" />
      ) : users.isError ? (
        <ErrorState error={users.error} onRetry={() => void users.refetch()} />
      ) : (
        <div className="table-wrap">
          <table className="table">
            <caption className="visually-hidden">Users</caption>
            <thead>
              <tr>
                <th scope="col">User</th>
                <th scope="col">Role</th>
                <th scope="col">Status</th>
                <th scope="col">Created</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {users.data.items.map((u) => (
                <tr key={u.id}>
                  <th scope="row">
                    {u.username}
                    {u.displayName ? <span className="muted small"> · {u.displayName}</span> : null}
                  </th>
                  <td>
                    <select
                      className="field__input"
                      aria-label={`Role of ${u.username}`}
                      value={u.role}
                      disabled={update.isPending || u.username === self}
                      title={u.username === self ? 'You cannot change your own role' : undefined}
                      onChange={(e) => change(u, { id: u.id, role: e.target.value as RoleName })}
                    >
                      {ROLE_OPTIONS.map((r) => (
                        <option key={r.value} value={r.value}>
                          {r.value}
                        </option>
                      ))}
                    </select>
                  </td>
                  <td>{userStatus(u, Date.now())}</td>
                  <td>
                    <Time iso={u.createdAt} />
                  </td>
                  <td>
                    <div className="button-row">
                      <button
                        type="button"
                        className="button button--ghost button--small"
                        disabled={update.isPending}
                        onClick={() => change(u, { id: u.id, resetPassword: true })}
                      >
                        Reset password<span className="visually-hidden"> of {u.username}</span>
                      </button>
                      {u.disabled ? (
                        <button
                          type="button"
                          className="button button--ghost button--small"
                          disabled={update.isPending}
                          onClick={() => change(u, { id: u.id, disabled: false })}
                        >
                          Enable<span className="visually-hidden"> {u.username}</span>
                        </button>
                      ) : confirmDisable === u.id ? (
                        <>
                          <button
                            type="button"
                            className="button button--danger button--small"
                            disabled={update.isPending}
                            onClick={() => change(u, { id: u.id, disabled: true })}
                          >
                            Confirm disable<span className="visually-hidden"> {u.username}</span>
                          </button>
                          <button
                            type="button"
                            className="button button--ghost button--small"
                            onClick={() => setConfirmDisable(null)}
                          >
                            Keep
                          </button>
                        </>
                      ) : (
                        <button
                          type="button"
                          className="button button--ghost button--small"
                          disabled={update.isPending || u.username === self}
                          onClick={() => setConfirmDisable(u.id)}
                        >
                          Disable<span className="visually-hidden"> {u.username}</span>
                        </button>
                      )}
                    </div>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

function TokensPanel() {
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

  return (
    <section className="card" aria-labelledby={`${id}-tokens`}>
      <h2 id={`${id}-tokens`}>API tokens</h2>
      <form className="filters" aria-label="Create an API token" onSubmit={submit} noValidate>
        <div className="field">
          <label className="field__label" htmlFor={`${id}-name`}>
            Name
          </label>
          <input
            id={`${id}-name`}
            className="field__input"
            value={name}
            onChange={(e) => setName(e.target.value)}
            aria-invalid={touched && nameProblem ? true : undefined}
            aria-describedby={touched && nameProblem ? `${id}-name-error` : undefined}
            autoComplete="off"
          />
          {touched && nameProblem ? (
            <p id={`${id}-name-error`} className="feedback feedback--error">
              {nameProblem}
            </p>
          ) : null}
        </div>
        <div className="field">
          <label className="field__label" htmlFor={`${id}-token-role`}>
            Role
          </label>
          <select
            id={`${id}-token-role`}
            className="field__input"
            value={role}
            onChange={(e) => setRole(e.target.value as RoleName)}
          >
            {ROLE_OPTIONS.map((r) => (
              <option key={r.value} value={r.value}>
                {r.value}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label className="field__label" htmlFor={`${id}-expiry`}>
            Expires in (days)
          </label>
          <input
            id={`${id}-expiry`}
            className="field__input"
            inputMode="numeric"
            value={expiry}
            onChange={(e) => setExpiry(e.target.value)}
            aria-invalid={touched && days === null ? true : undefined}
            aria-describedby={`${id}-expiry-hint`}
          />
          <p id={`${id}-expiry-hint`} className={`field__hint ${touched && days === null ? 'fail' : ''}`}>
            1–3650; empty for no expiry.
          </p>
        </div>
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
      {tokens.isPending ? (
        <LoadingState label="Loading tokens…" />
      ) : tokens.isError ? (
        <ErrorState error={tokens.error} onRetry={() => void tokens.refetch()} />
      ) : tokens.data.items.length === 0 ? (
        <EmptyState title="No API tokens yet" />
      ) : (
        <div className="table-wrap">
          <table className="table">
            <caption className="visually-hidden">API tokens</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Role</th>
                <th scope="col">Scope</th>
                <th scope="col">Status</th>
                <th scope="col">Expires</th>
                <th scope="col">Last used</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {sortTokens(tokens.data.items).map((t) => (
                <tr key={t.id}>
                  <th scope="row">
                    {t.name} <span className="mono muted small">{t.prefix}…</span>
                  </th>
                  <td>{t.role}</td>
                  <td>{tokenScope(t)}</td>
                  <td>{t.status}</td>
                  <td>{t.expiresAt ? <Time iso={t.expiresAt} /> : 'never'}</td>
                  <td>
                    <Time iso={t.lastUsedAt} />
                  </td>
                  <td>
                    {t.status !== 'active' ? null : confirmRevoke === t.id ? (
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
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
