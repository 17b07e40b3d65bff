import { type FormEvent, useId } from 'react';
import { useNavigate, useSearchParams } from 'react-router';
import { useLogin } from '../../hooks/api/auth/mutations';

/** Only same-site paths: a `next=https://evil.example` must not turn sign-in into an open redirect. */
export function safeNext(next: string | null): string {
  return next?.startsWith('/') && !next.startsWith('//') ? next : '/';
}

export function LoginPage() {
  const login = useLogin();
  const navigate = useNavigate();
  const [search] = useSearchParams();
  const id = useId();

  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const data = new FormData(event.currentTarget);
    login.mutate(
      { username: String(data.get('username') ?? ''), password: String(data.get('password') ?? '') },
      { onSuccess: () => void navigate(safeNext(search.get('next')), { replace: true }) },
    );
  };

  return (
    <div className="page login">
      <form className="card" onSubmit={submit} aria-labelledby={`${id}-title`}>
        <h1 id={`${id}-title`}>Sign in</h1>
        <div className="field">
          <label className="field__label" htmlFor={`${id}-user`}>
            Username
          </label>
          <input
            id={`${id}-user`}
            name="username"
            className="field__input"
            autoComplete="username"
            required
          />
        </div>
        <div className="field">
          <label className="field__label" htmlFor={`${id}-password`}>
            Password
          </label>
          <input
            id={`${id}-password`}
            name="password"
            type="password"
            className="field__input"
            autoComplete="current-password"
            required
          />
        </div>
        {login.error ? (
          <p className="feedback feedback--error" role="alert">
            {login.error.message}
          </p>
        ) : null}
        <button type="submit" className="button" disabled={login.isPending}>
          {login.isPending ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </div>
  );
}
