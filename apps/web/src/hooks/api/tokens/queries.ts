import { useQuery } from '@tanstack/react-query';
import { api } from '../../../lib/api-client';

export const tokenKeys = {
  all: ['tokens'] as const,
  list: () => [...tokenKeys.all, 'list'] as const,
};

export function useTokens(enabled = true) {
  return useQuery({
    queryKey: tokenKeys.list(),
    queryFn: ({ signal }) => api.call('GET /api/v1/tokens', { signal }),
    enabled,
  });
}
