import type { RoleName, User } from '@qubot/api-contract';
import { type FormEvent, useId, useState } from 'react';
import { actionsHeader, type Column, DataTable } from '../../components/data-table';
import { Options, SelectField, TextField } from '../../components/field';
import { ActionFeedback, ErrorState, LoadingState } from '../../components/states';
import { Time } from '../../components/time';
import { useCreateUser, useUpdateUser } from '../../hooks/api/users/mutations';
import { useUsers } from '../../hooks/api/users/queries';
import { OneTimeSecret } from './one-time-secret';
import { ROLE_OPTIONS, usernameProblem, userStatus } from './settings-utils';

/** Settings → Users: create a user (a one-time password is shown once), change roles, disable. */
export function UsersPanel({ self }: { self: string }) {
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

  const columns: Column<User>[] = [
    {
      key: 'user',
      header: 'User',
      rowHeader: true,
      cell: (u) => (
        <>
          {u.username}
          {u.displayName ? <span className="muted small"> · {u.displayName}</span> : null}
        </>
      ),
    },
    {
      key: 'role',
      header: 'Role',
      cell: (u) => (
        <select
          className="field__input"
          aria-label={`Role of ${u.username}`}
          value={u.role}
          disabled={update.isPending || u.username === self}
          title={u.username === self ? 'You cannot change your own role' : undefined}
          onChange={(e) => change(u, { id: u.id, role: e.target.value as RoleName })}
        >
          <Options items={ROLE_OPTIONS.map((r) => ({ value: r.value, label: r.value }))} />
        </select>
      ),
    },
    { key: 'status', header: 'Status', cell: (u) => userStatus(u, Date.now()) },
    { key: 'created', header: 'Created', cell: (u) => <Time iso={u.createdAt} /> },
    {
      key: 'actions',
      header: actionsHeader,
      cell: (u) => (
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
      ),
    },
  ];

  return (
    <section className="card" aria-labelledby={`${id}-users`}>
      <h2 id={`${id}-users`}>Users</h2>
      <form className="filters" aria-label="Create a user" onSubmit={submit} noValidate>
        <TextField
          label="Username"
          error={touched ? problem : null}
          value={username}
          onChange={(e) => setUsername(e.target.value)}
          autoComplete="off"
        />
        <TextField
          label="Display name (optional)"
          maxLength={200}
          value={displayName}
          onChange={(e) => setDisplayName(e.target.value)}
        />
        <SelectField label="Role" value={role} onChange={(e) => setRole(e.target.value as RoleName)}>
          <Options items={ROLE_OPTIONS} />
        </SelectField>
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
      <DataTable
        placeholder={
          users.isPending ? (
            <LoadingState label="Loading users…" />
          ) : users.isError ? (
            <ErrorState error={users.error} onRetry={() => void users.refetch()} />
          ) : null
        }
        caption="Users"
        columns={columns}
        rows={users.data?.items ?? []}
        rowKey={(u) => u.id}
      />
    </section>
  );
}
