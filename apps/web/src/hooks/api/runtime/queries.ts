import { useQuery } from '@tanstack/react-query';
import { api } from '../../../lib/api-client';

export const runtimeKeys = {
  all: ['runtime'] as const,
  info: () => [...runtimeKeys.all, 'info'] as const,
};

/** The runtime driver and its capabilities (whether limits are enforced); changes only on a restart. */
export function useRuntimeInfo() {
  return useQuery({
    queryKey: runtimeKeys.info(),
    queryFn: ({ signal }) => api.call('GET /api/v1/runtime', { signal }),
    staleTime: 5 * 60_000,
  });
}
