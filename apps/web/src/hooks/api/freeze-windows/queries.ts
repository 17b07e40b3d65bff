import { useQuery } from '@tanstack/react-query';
import { api } from '../../../lib/api-client';

export const freezeWindowKeys = {
  all: ['freeze-windows'] as const,
  list: (app: string, env: string) => [...freezeWindowKeys.all, app, env] as const,
};

/** Freeze windows change rarely and emit no events: refetched on focus and after a change here. */
export function useFreezeWindows(app: string, env: string) {
  return useQuery({
    queryKey: freezeWindowKeys.list(app, env),
    queryFn: ({ signal }) =>
      api.call('GET /api/v1/apps/:app/environments/:env/freeze-windows', { params: { app, env }, signal }),
    enabled: Boolean(app && env),
  });
}
