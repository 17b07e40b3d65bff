import { useQuery } from '@tanstack/react-query';
import { api } from '../../../lib/api-client';

export const policyKeys = {
  all: ['policies'] as const,
  list: (app: string) => [...policyKeys.all, app] as const,
};

/**
 * Each environment's promotion policy and what it will do next. Refreshed by events (a release
 * registered, a deployment moving, an environment changing: lib/events-utils.ts), never polled.
 */
export function usePolicies(app: string | undefined) {
  return useQuery({
    queryKey: policyKeys.list(app ?? ''),
    queryFn: ({ signal }) => api.call('GET /api/v1/apps/:app/policies', { params: { app: app! }, signal }),
    enabled: Boolean(app),
  });
}
