import { useQuery } from '@tanstack/react-query';
import { api } from '../../../lib/api-client';
import { livePollInterval } from '../../../lib/live-status';

export const hostKeys = {
  all: ['hosts'] as const,
  list: () => [...hostKeys.all, 'list'] as const,
  tokens: () => [...hostKeys.all, 'enrolment-tokens'] as const,
};

/**
 * The fleet. Each host's state changes and heartbeat figures arrive as `host.updated` events (the
 * `hosts` topic, useHostsSubscription) that patch this cache; it is polled only while the event
 * stream is down (docs/hosts.md).
 */
export function useHosts() {
  return useQuery({
    queryKey: hostKeys.list(),
    queryFn: ({ signal }) => api.call('GET /api/v1/hosts', { signal }),
    refetchInterval: livePollInterval,
  });
}

export function useEnrolmentTokens() {
  return useQuery({
    queryKey: hostKeys.tokens(),
    queryFn: ({ signal }) => api.call('GET /api/v1/hosts/enrolment-tokens', { query: { limit: 20 }, signal }),
  });
}
