import { useInfiniteQuery, useQuery } from '@tanstack/react-query';
import { api } from '../../../lib/api-client';

export const scalingKeys = {
  all: ['autoscale'] as const,
  app: (app: string) => [...scalingKeys.all, app] as const,
  policy: (app: string, env: string) => [...scalingKeys.app(app), env, 'policy'] as const,
  decisions: (app: string, env: string) => [...scalingKeys.app(app), env, 'decisions'] as const,
};

/** The environment's autoscaling policy; `autoscale.decision` events refresh it (its last scale). */
export function useAutoscalePolicy(app: string, env: string) {
  return useQuery({
    queryKey: scalingKeys.policy(app, env),
    queryFn: ({ signal }) =>
      api.call('GET /api/v1/apps/:app/environments/:env/autoscale', { params: { app, env }, signal }),
    enabled: Boolean(app && env),
  });
}

/** The autoscaler's decisions, newest first, a page at a time (keyset cursor). */
export function useScalingDecisions(app: string, env: string) {
  return useInfiniteQuery({
    queryKey: scalingKeys.decisions(app, env),
    queryFn: ({ signal, pageParam }) =>
      api.call('GET /api/v1/apps/:app/environments/:env/autoscale/decisions', {
        params: { app, env },
        query: { limit: 10, ...(pageParam ? { cursor: pageParam } : {}) },
        signal,
      }),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.nextCursor,
    enabled: Boolean(app && env),
  });
}
