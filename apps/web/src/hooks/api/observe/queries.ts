import type { Deployment, EnvironmentMetrics } from '@qubot/api-contract';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useRef } from 'react';
import { appendSample } from '../../../features/environments/metrics-chart-utils';
import { api } from '../../../lib/api-client';
import { useEnvironmentSubscription, useMetricsMessages } from '../../../lib/use-event-stream';
import { deploymentKeys } from '../deployments/queries';

/** The chart's window. */
export const METRICS_WINDOW_SECONDS = 300;

export const observeKeys = {
  all: ['observe'] as const,
  metrics: (app: string, env: string) => [...observeKeys.all, 'metrics', app, env] as const,
  eta: (id: string) => [...observeKeys.all, 'eta', id] as const,
  log: (id: string) => [...observeKeys.all, 'log', id] as const,
};

/**
 * Recent router samples (REST, once) kept current by the `metrics` messages of the event stream:
 * no polling. The environment's topic is subscribed while mounted.
 */
export function useEnvironmentMetrics(app: string, env: string) {
  const queryClient = useQueryClient();
  useEnvironmentSubscription(app, env);
  useMetricsMessages((m) => {
    if (m.environment !== `${app}/${env}`) return;
    queryClient.setQueryData<EnvironmentMetrics>(observeKeys.metrics(app, env), (old) =>
      appendSample(old, m.sample, METRICS_WINDOW_SECONDS * 1000),
    );
  });
  return useQuery({
    queryKey: observeKeys.metrics(app, env),
    queryFn: ({ signal }) =>
      api.call('GET /api/v1/apps/:app/environments/:env/metrics', {
        params: { app, env },
        query: { windowSeconds: METRICS_WINDOW_SECONDS },
        signal,
      }),
    // Live samples keep it fresh; a refetch would only throw the newest ones away.
    staleTime: Number.POSITIVE_INFINITY,
  });
}

/** Requests served/failed of a running deployment, as the router counts them, between stored updates. */
export function useLiveDeploymentTraffic(id: string | undefined) {
  const queryClient = useQueryClient();
  useMetricsMessages((m) => {
    if (!id || m.deployment?.id !== id) return;
    const traffic = m.deployment.traffic;
    queryClient.setQueryData<Deployment>(deploymentKeys.detail(id), (old) =>
      old && (old.status === 'running' || old.status === 'paused') ? { ...old, traffic } : old,
    );
  });
}

export function useDeploymentEta(id: string, active: boolean) {
  return useQuery({
    queryKey: observeKeys.eta(id),
    queryFn: ({ signal }) => api.call('GET /api/v1/deployments/:id/eta', { params: { id }, signal }),
    enabled: active,
    // The history it is computed from does not change while this deployment runs.
    staleTime: Number.POSITIVE_INFINITY,
  });
}

/**
 * The deployment's log. `version` changes whenever a live event changed the deployment (its steps,
 * status or wait), and the log is read again then: event-driven, not polled.
 */
export function useDeploymentLog(id: string, version: string) {
  const queryClient = useQueryClient();
  const query = useQuery({
    queryKey: observeKeys.log(id),
    queryFn: ({ signal }) => api.call('GET /api/v1/deployments/:id/events', { params: { id }, signal }),
  });
  const seen = useRef(version);
  useEffect(() => {
    if (seen.current === version) return;
    seen.current = version;
    void queryClient.invalidateQueries({ queryKey: observeKeys.log(id) });
  }, [queryClient, id, version]);
  return query;
}
