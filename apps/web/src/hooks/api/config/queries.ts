import { useInfiniteQuery, useQuery } from '@tanstack/react-query';
import { api } from '../../../lib/api-client';

export const configKeys = {
  all: ['config'] as const,
  environment: (app: string, env: string) => [...configKeys.all, 'environment', app, env] as const,
  current: (app: string, env: string) => [...configKeys.environment(app, env), 'current'] as const,
  versions: (app: string, env: string) => [...configKeys.environment(app, env), 'versions'] as const,
  diff: (app: string, env: string, from: number, to: number) =>
    [...configKeys.environment(app, env), 'diff', from, to] as const,
  environmentDiff: (app: string, from: string, to: string) =>
    [...configKeys.all, 'environment-diff', app, from, to] as const,
  previews: () => [...configKeys.all, 'promotion-preview'] as const,
  preview: (app: string, env: string) => [...configKeys.previews(), app, env] as const,
};

export const fetchConfig = (app: string, env: string, signal?: AbortSignal) =>
  api.call('GET /api/v1/apps/:app/environments/:env/config', {
    params: { app, env },
    signal: signal ?? null,
  });

export function useConfig(app: string, env: string) {
  return useQuery({
    queryKey: configKeys.current(app, env),
    queryFn: ({ signal }) => fetchConfig(app, env, signal),
    enabled: Boolean(app && env),
  });
}

export function useConfigVersions(app: string, env: string, limit = 20) {
  return useInfiniteQuery({
    queryKey: configKeys.versions(app, env),
    queryFn: ({ pageParam, signal }) =>
      api.call('GET /api/v1/apps/:app/environments/:env/config/versions', {
        params: { app, env },
        query: { cursor: pageParam ?? undefined, limit },
        signal,
      }),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.nextCursor,
    enabled: Boolean(app && env),
  });
}

/** Two versions of one environment; disabled until both are chosen. */
export function useConfigDiff(app: string, env: string, range: { from: number; to: number } | null) {
  return useQuery({
    queryKey: configKeys.diff(app, env, range?.from ?? -1, range?.to ?? -1),
    queryFn: ({ signal }) =>
      api.call('GET /api/v1/apps/:app/environments/:env/config/diff', {
        params: { app, env },
        query: { from: range!.from, to: range!.to },
        signal,
      }),
    enabled: Boolean(app && env && range),
  });
}

export function usePromotionPreview(app: string, env: string, enabled: boolean) {
  return useQuery({
    queryKey: configKeys.preview(app, env),
    queryFn: ({ signal }) =>
      api.call('GET /api/v1/apps/:app/environments/:env/promotion-preview', { params: { app, env }, signal }),
    enabled: enabled && Boolean(app && env),
    // Always fresh when the dialog opens: it is the last look before shipping.
    staleTime: 0,
  });
}
