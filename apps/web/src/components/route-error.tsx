import { isRouteErrorResponse, Link, useRouteError } from 'react-router';
import { EmptyState, ErrorState } from './states';

export function RouteErrorPage() {
  const error = useRouteError();
  if (isRouteErrorResponse(error) && error.status === 404) return <NotFoundPage />;
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
