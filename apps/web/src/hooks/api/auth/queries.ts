import type { Me } from '@qubot/api-contract';
import { useQuery } from '@tanstack/react-query';
import { ApiError, api } from '../../../lib/api-client';

export type CurrentUser = Me;

export const authKeys = {
  all: ['auth'] as const,
  me: () => [...authKeys.all, 'me'] as const,
  options: () => [...authKeys.all, 'options'] as const,
};

/** Public: whether the server runs in demo mode, and then its demo accounts (the sign-in page lists them). */
export function useSignInOptions() {
  return useQuery({
    queryKey: authKeys.options(),
    queryFn: ({ signal }) => api.call('GET /api/v1/auth/options', { signal }),
    staleTime: Number.POSITIVE_INFINITY,
  });
}

export function useCurrentUser() {
  return useQuery({
    queryKey: authKeys.me(),
    // Signed out is an answer, not an error: 401 becomes null.
    queryFn: async ({ signal }) => {
      try {
        return await api.call('GET /api/v1/auth/me', { signal });
      } catch (error) {
        if (error instanceof ApiError && error.status === 401) return null;
        throw error;
      }
    },
    staleTime: 5 * 60_000,
    retry: false,
  });
}
