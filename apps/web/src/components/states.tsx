import type { ReactNode } from 'react';
import { Link, useLocation } from 'react-router';
import { ApiError, errorMessage } from '../lib/api-client';
import { paths } from '../lib/paths';
import './states.css';

export function LoadingState({ label = 'Loading…' }: { label?: string }) {
  return (
    <div className="state state--loading" role="status" aria-live="polite">
      <span className="spinner" aria-hidden="true" />
      {label}
    </div>
  );
}

export function ErrorState({
  error,
  title = 'Could not load this',
  onRetry,
}: {
  error: unknown;
  title?: string;
  onRetry?: () => void;
}) {
  const location = useLocation();
  const signedOut = error instanceof ApiError && error.status === 401;
  return (
    <div className="state state--error" role="alert">
      <p className="state__title">{title}</p>
      <p>{errorMessage(error)}</p>
      {error instanceof ApiError && error.requestId ? (
        <p className="state__meta">Request id: {error.requestId}</p>
      ) : null}
      <div className="state__actions">
        {signedOut ? (
          <Link className="button" to={paths.login(location.pathname + location.search)}>
            Sign in
          </Link>
        ) : null}
        {onRetry ? (
          <button type="button" className="button button--secondary" onClick={onRetry}>
            Try again
          </button>
        ) : null}
      </div>
    </div>
  );
}

export function EmptyState({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div className="state state--empty">
      <p className="state__title">{title}</p>
      {children}
    </div>
  );
}

/** Inline result of an action: "pending…", the server's refusal, or a success note. */
export function ActionFeedback({
  pending,
  error,
  success,
}: {
  pending?: string | null | undefined;
  error?: unknown;
  success?: ReactNode;
}) {
  if (error) {
    return (
      <p className="feedback feedback--error" role="alert">
        {errorMessage(error)}
      </p>
    );
  }
  return (
    <p className="feedback" role="status" aria-live="polite">
      {pending ?? success ?? null}
    </p>
  );
}
