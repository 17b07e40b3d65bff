import type { DeploymentStatus } from '@qubot/api-contract';
import { useInfiniteQuery, useQuery } from '@tanstack/react-query';
import { api } from '../../../lib/api-client';
import { livePollInterval } from '../../../lib/live-status';
import { isActiveStatus } from '../../../lib/status-utils';

export interface DeploymentFilters {
  app?: string | undefined;
  env?: string | undefined;
  status?: DeploymentStatus | undefined;
  limit?: number | undefined;
}

/** Undefined and empty filters share one cache entry with "no filter". */
export function normalizeDeploymentFilters(filters: DeploymentFilters): DeploymentFilters {
  const out: DeploymentFilters = {};
  if (filters.app) out.app = filters.app;
  if (filters.env) out.env = filters.env;
  if (filters.status) out.status = filters.status;
  if (filters.limit) out.limit = filters.limit;
  return out;
}

export const deploymentKeys = {
  all: ['deployments'] as const,
  lists: () => [...deploymentKeys.all, 'list'] as const,
  list: (filters: DeploymentFilters) =>
    [...deploymentKeys.lists(), normalizeDeploymentFilters(filters)] as const,
  details: () => [...deploymentKeys.all, 'detail'] as const,
  detail: (id: string) => [...deploymentKeys.details(), id] as const,
  /** Hook runs, per state of the deployment (`stamp`): a new step status fetches them again. */
  hooks: (id: string, stamp: string) => [...deploymentKeys.detail(id), 'hooks', stamp] as const,
  hookLog: (id: string, runId: string, stamp: string) =>
    [...deploymentKeys.detail(id), 'hook-log', runId, stamp] as const,
};

export const fetchDeployments = (filters: DeploymentFilters, cursor: string | null, signal?: AbortSignal) =>
  api.call('GET /api/v1/deployments', {
    query: { ...normalizeDeploymentFilters(filters), cursor: cursor ?? undefined },
    signal: signal ?? null,
  });

export const fetchDeployment = (id: string, signal?: AbortSignal) =>
  api.call('GET /api/v1/deployments/:id', { params: { id }, signal: signal ?? null });

export function useDeployments(filters: DeploymentFilters, options: { enabled?: boolean } = {}) {
  return useInfiniteQuery({
    queryKey: deploymentKeys.list(filters),
    queryFn: ({ pageParam, signal }) => fetchDeployments(filters, pageParam, signal),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.nextCursor,
    enabled: options.enabled ?? true,
    refetchInterval: livePollInterval,
  });
}

export function useDeployment(id: string | undefined) {
  return useQuery({
    queryKey: deploymentKeys.detail(id ?? ''),
    queryFn: ({ signal }) => fetchDeployment(id!, signal),
    enabled: Boolean(id),
    // A finished deployment never changes again.
    refetchInterval: (query) => {
      const status = query.state.data?.status;
      return status && !isActiveStatus(status) ? false : livePollInterval();
    },
  });
}

/** A deployment's hook runs (docs/hooks.md); `stamp` changes with the deployment's live view. */
export function useHookRuns(id: string, stamp: string) {
  return useQuery({
    queryKey: deploymentKeys.hooks(id, stamp),
    queryFn: ({ signal }) => api.call('GET /api/v1/deployments/:id/hooks', { params: { id }, signal }),
    placeholderData: (previous) => previous,
  });
}

export function useHookRunLog(id: string, runId: string, stamp: string, enabled: boolean) {
  return useQuery({
    queryKey: deploymentKeys.hookLog(id, runId, stamp),
    queryFn: ({ signal }) =>
      api.call('GET /api/v1/deployments/:id/hooks/:runId/logs', { params: { id, runId }, query: {}, signal }),
    enabled,
    placeholderData: (previous) => previous,
  });
}
