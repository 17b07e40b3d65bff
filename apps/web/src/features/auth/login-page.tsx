import type { SignInOptions } from '@qubot/api-contract';
import { type FormEvent, useId, useState } from 'react';
import { Navigate, useNavigate, useSearchParams } from 'react-router';
import { type Column, DataTable } from '../../components/data-table';
import { TextField } from '../../components/field';
import { useLogin } from '../../hooks/api/auth/mutations';
import { useCurrentUser, useSignInOptions } from '../../hooks/api/auth/queries';
import { safeNext } from './auth-utils';
import './login-page.css';

export { safeNext } from './auth-utils';

type DemoUser = SignInOptions['demoUsers'][number];

const DEMO_COLUMNS = (onPick: (username: string, password: string) => void): Column<DemoUser>[] => [
  { key: 'username', header: 'Username', rowHeader: true, cellClassName: 'mono', cell: (u) => u.username },
  { key: 'password', header: 'Password', cellClassName: 'mono', cell: (u) => u.password },
  { key: 'role', header: 'Role', cell: (u) => u.role },
  {
    key: 'use',
    header: <span className="visually-hidden">Use</span>,
    cell: (u) => (
      <button
        type="button"
        className="button button--ghost button--small"
        aria-label={`Use ${u.username}`}
        onClick={() => onPick(u.username, u.password)}
      >
        Use
      </button>
    ),
  },
];

/** Demo mode only: the demo accounts, each one click from filling the form. */
function DemoAccounts({ onPick }: { onPick: (username: string, password: string) => void }) {
  const options = useSignInOptions();
  const id = useId();
  if (!options.data?.demo || options.data.demoUsers.length === 0) return null;
  return (
    <section className="card" aria-labelledby={`${id}-demo`}>
      <h2 id={`${id}-demo`}>Demo accounts</h2>
      <p className="muted small">This server runs in demo mode; these accounts exist only here.</p>
      <DataTable columns={DEMO_COLUMNS(onPick)} rows={options.data.demoUsers} rowKey={(u) => u.username} />
    </section>
  );
}

export function LoginPage() {
  const login = useLogin();
  const me = useCurrentUser();
  const navigate = useNavigate();
  const [search] = useSearchParams();
  const id = useId();
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const next = safeNext(search.get('next'), window.location.origin);

  // Already signed in (or just now): straight on to the page that was asked for.
  if (me.data && !login.isPending) return <Navigate to={next} replace />;

  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    login.mutate({ username, password }, { onSuccess: () => void navigate(next, { replace: true }) });
  };

  return (
    <div className="page login">
      <form className="card" onSubmit={submit} aria-labelledby={`${id}-title`}>
        <h1 id={`${id}-title`}>Sign in</h1>
        {next !== '/' ? <p className="muted small">Sign in to continue to {next}.</p> : null}
        <TextField
          label="Username"
          name="username"
          autoComplete="username"
          required
          value={username}
          onChange={(e) => setUsername(e.target.value)}
        />
        <TextField
          label="Password"
          name="password"
          type="password"
          autoComplete="current-password"
          required
          value={password}
          onChange={(e) => setPassword(e.target.value)}
        />
        {login.error ? (
          <p className="feedback feedback--error" role="alert">
            {login.error.message}
          </p>
        ) : null}
        <button type="submit" className="button" disabled={login.isPending}>
          {login.isPending ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
      <DemoAccounts
        onPick={(u, p) => {
          setUsername(u);
          setPassword(p);
        }}
      />
    </div>
  );
}
