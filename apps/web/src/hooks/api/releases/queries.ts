import type { List, Release } from '@qubot/api-contract';
import { useInfiniteQuery, useQuery, useQueryClient } from '@tanstack/react-query';
import { api } from '../../../lib/api-client';

export const releaseKeys = {
  all: ['releases'] as const,
  lists: () => [...releaseKeys.all, 'list'] as const,
  list: (app: string) => [...releaseKeys.lists(), app] as const,
  details: () => [...releaseKeys.all, 'detail'] as const,
  detail: (app: string, version: string) => [...releaseKeys.details(), app, version] as const,
};

export const fetchReleases = (app: string, cursor: string | null, signal?: AbortSignal) =>
  api.call('GET /api/v1/apps/:app/releases', {
    params: { app },
    query: { cursor: cursor ?? undefined },
    signal: signal ?? null,
  });

export const fetchRelease = (app: string, version: string, signal?: AbortSignal) =>
  api.call('GET /api/v1/apps/:app/releases/:version', { params: { app, version }, signal: signal ?? null });

export function useReleases(app: string | undefined) {
  return useInfiniteQuery({
    queryKey: releaseKeys.list(app ?? ''),
    queryFn: ({ pageParam, signal }) => fetchReleases(app!, pageParam, signal),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.nextCursor,
    enabled: Boolean(app),
  });
}

export function useRelease(app: string | undefined, version: string | undefined) {
  const queryClient = useQueryClient();
  return useQuery<Release>({
    queryKey: releaseKeys.detail(app ?? '', version ?? ''),
    queryFn: ({ signal }) => fetchRelease(app!, version!, signal),
    enabled: Boolean(app && version),
    // The list already holds the whole release: show it at once, then refresh from the detail route.
    placeholderData: (): Release | undefined => {
      const pages = queryClient.getQueryData<{ pages: List<Release>[] }>(releaseKeys.list(app ?? ''))?.pages;
      return pages?.flatMap((p) => p.items).find((r) => r.version === version);
    },
  });
}
