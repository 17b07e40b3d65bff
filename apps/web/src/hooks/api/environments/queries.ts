import { useQuery } from '@tanstack/react-query';
import { api } from '../../../lib/api-client';
import { livePollInterval } from '../../../lib/live-status';

export const environmentKeys = {
  all: ['environments'] as const,
  lists: () => [...environmentKeys.all, 'list'] as const,
  list: (app: string) => [...environmentKeys.lists(), app] as const,
  details: () => [...environmentKeys.all, 'detail'] as const,
  detail: (app: string, env: string) => [...environmentKeys.details(), app, env] as const,
  trafficProvider: (app: string, env: string) =>
    [...environmentKeys.all, 'traffic-provider', app, env] as const,
  analysisProvider: (app: string, env: string) =>
    [...environmentKeys.all, 'analysis-provider', app, env] as const,
  parity: (app: string, from: string, to: string) =>
    [...environmentKeys.all, 'parity', app, from, to] as const,
};

/** How often the provider's own health (HAProxy's checks of each target) is read again. */
const PROVIDER_HEALTH_INTERVAL_MS = 5_000;
/** Two environments side by side (docs/configuration.md "Parity"). */
export function useParity(app: string, from: string, to: string) {
  return useQuery({
    queryKey: environmentKeys.parity(app, from, to),
    queryFn: ({ signal }) =>
      api.call('GET /api/v1/apps/:app/parity', { params: { app }, query: { from, to }, signal }),
    enabled: Boolean(from && to && from !== to),
  });
}

export const fetchEnvironments = (app: string, signal?: AbortSignal) =>
  api.call('GET /api/v1/apps/:app/environments', { params: { app }, signal: signal ?? null });

export const fetchEnvironment = (app: string, env: string, signal?: AbortSignal) =>
  api.call('GET /api/v1/apps/:app/environments/:env', { params: { app, env }, signal: signal ?? null });

export function useEnvironments(app: string | undefined) {
  return useQuery({
    queryKey: environmentKeys.list(app ?? ''),
    queryFn: ({ signal }) => fetchEnvironments(app!, signal),
    enabled: Boolean(app),
    refetchInterval: livePollInterval,
  });
}

export function useEnvironment(app: string | undefined, env: string | undefined) {
  return useQuery({
    queryKey: environmentKeys.detail(app ?? '', env ?? ''),
    queryFn: ({ signal }) => fetchEnvironment(app!, env!, signal),
    enabled: Boolean(app && env),
    refetchInterval: livePollInterval,
  });
}

/**
 * The environment's traffic provider: kind, capabilities and its live health. HAProxy's checks of
 * each target are not events: read again every few seconds while the page is open.
 */
export function useTrafficProvider(app: string | undefined, env: string | undefined) {
  return useQuery({
    queryKey: environmentKeys.trafficProvider(app ?? '', env ?? ''),
    queryFn: ({ signal }) =>
      api.call('GET /api/v1/apps/:app/environments/:env/traffic-provider', {
        params: { app: app!, env: env! },
        signal: signal ?? null,
      }),
    enabled: Boolean(app && env),
    refetchInterval: PROVIDER_HEALTH_INTERVAL_MS,
  });
}

/** Where the environment's canary analysis reads its figures (the router, or a Prometheus). */
export function useAnalysisProvider(app: string, env: string) {
  return useQuery({
    queryKey: environmentKeys.analysisProvider(app, env),
    queryFn: ({ signal }) =>
      api.call('GET /api/v1/apps/:app/environments/:env/analysis-provider', { params: { app, env }, signal }),
  });
}
