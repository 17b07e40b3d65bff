import { useQuery } from '@tanstack/react-query';
import { api } from '../../../lib/api-client';

export const applicationKeys = {
  all: ['applications'] as const,
  list: () => [...applicationKeys.all, 'list'] as const,
};

export const fetchApplications = (signal?: AbortSignal) =>
  api.call('GET /api/v1/apps', { signal: signal ?? null });

export function useApplications() {
  return useQuery({
    queryKey: applicationKeys.list(),
    queryFn: ({ signal }) => fetchApplications(signal),
    staleTime: 60_000,
  });
}

/**
 * The application a page is about: the one named in the URL, else the first one
 * (`qubot-one` in the seeded product). `name` is undefined while loading or when there are none.
 */
export function useCurrentApplication(fromUrl?: string) {
  const query = useApplications();
  const items = query.data?.items ?? [];
  const application = fromUrl ? items.find((a) => a.name === fromUrl) : items[0];
  return {
    ...query,
    application,
    name: fromUrl ?? application?.name,
    isEmpty: query.isSuccess && items.length === 0,
  };
}
