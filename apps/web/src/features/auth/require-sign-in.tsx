import { useQueryClient } from '@tanstack/react-query';
import { useEffect } from 'react';
import { Navigate, Outlet, useLocation } from 'react-router';
import { ErrorState, LoadingState } from '../../components/states';
import { authKeys, useCurrentUser } from '../../hooks/api/auth/queries';
import { ApiError } from '../../lib/api-client';
import { signInPath } from './auth-utils';

/**
 * Every page but sign-in: an anonymous visitor is sent to the sign-in page, which brings them
 * back here afterwards. A session that ends while a page is open (expiry, sign-out elsewhere,
 * revocation) does the same: the first request answered 401 marks the visitor signed out.
 */
export function RequireSignIn() {
  const me = useCurrentUser();
  const location = useLocation();
  const queryClient = useQueryClient();

  useEffect(
    () =>
      queryClient.getQueryCache().subscribe((event) => {
        if (event.type !== 'updated' || event.action.type !== 'error') return;
        if (event.query.queryKey[0] === authKeys.all[0]) return;
        const error = event.action.error;
        if (error instanceof ApiError && error.status === 401) queryClient.setQueryData(authKeys.me(), null);
      }),
    [queryClient],
  );

  // Known answers first: a failed refetch (the server restarting) keeps the last one.
  if (me.data) return <Outlet />;
  if (me.data === null) return <Navigate to={signInPath(location)} replace />;
  if (me.isError)
    return (
      <div className="page">
        <ErrorState error={me.error} onRetry={() => void me.refetch()} />
      </div>
    );
  return (
    <div className="page">
      <LoadingState label="Checking your session…" />
    </div>
  );
}
