import { isRouteErrorResponse, Link, Navigate, useLocation, useRouteError } from 'react-router';
import { signInPath } from '../features/auth/auth-utils';
import { ApiError } from '../lib/api-client';
import { EmptyState, ErrorState } from './states';

export function RouteErrorPage() {
  const error = useRouteError();
  const location = useLocation();
  if (isRouteErrorResponse(error) && error.status === 404) return <NotFoundPage />;
  // Signed out: that is a reason to sign in, not an error page.
  if (error instanceof ApiError && error.status === 401)
    return <Navigate to={signInPath(location)} replace />;
  return (
    <div className="page">
      <ErrorState
        title="This page failed"
        error={error}
        onRetry={() => {
          window.location.reload();
        }}
      />
    </div>
  );
}

export function NotFoundPage() {
  return (
    <div className="page">
      <h1>Page not found</h1>
      <EmptyState title="Nothing lives at this address.">
        <p>
          <Link to="/">Go to the pipeline</Link>
        </p>
      </EmptyState>
    </div>
  );
}
