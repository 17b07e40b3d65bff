import { useQuery } from '@tanstack/react-query';
import { api } from '../../../lib/api-client';

export const userKeys = {
  all: ['users'] as const,
  list: () => [...userKeys.all, 'list'] as const,
};

export function useUsers(enabled = true) {
  return useQuery({
    queryKey: userKeys.list(),
    queryFn: ({ signal }) => api.call('GET /api/v1/users', { signal }),
    enabled,
  });
}
