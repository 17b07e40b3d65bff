import { useQuery } from '@tanstack/react-query';
import { api } from '../../../lib/api-client';

export const hostKeys = {
  all: ['hosts'] as const,
  list: () => [...hostKeys.all, 'list'] as const,
  tokens: () => [...hostKeys.all, 'enrolment-tokens'] as const,
};

/**
 * Hosts change with their agents' heartbeats, which are not stream events: the list is read again
 * every few seconds while the page is open (the one page that polls, docs/hosts.md).
 */
export function useHosts(refetchIntervalMs = 3_000) {
  return useQuery({
    queryKey: hostKeys.list(),
    queryFn: ({ signal }) => api.call('GET /api/v1/hosts', { signal }),
    refetchInterval: refetchIntervalMs,
  });
}

export function useEnrolmentTokens() {
  return useQuery({
    queryKey: hostKeys.tokens(),
    queryFn: ({ signal }) => api.call('GET /api/v1/hosts/enrolment-tokens', { query: { limit: 20 }, signal }),
  });
}
