import type { ApiToken, CreatedToken, CreateTokenBody } from '@qubot/api-contract';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { type ApiError, api } from '../../../lib/api-client';
import { tokenKeys } from './queries';

export function useCreateToken() {
  const queryClient = useQueryClient();
  return useMutation<CreatedToken, ApiError, CreateTokenBody>({
    mutationFn: (body) => api.call('POST /api/v1/tokens', { body }),
    onSettled: () => queryClient.invalidateQueries({ queryKey: tokenKeys.all }),
  });
}

export function useRevokeToken() {
  const queryClient = useQueryClient();
  return useMutation<ApiToken, ApiError, string>({
    mutationFn: (id) => api.call('DELETE /api/v1/tokens/:id', { params: { id } }),
    onSettled: () => queryClient.invalidateQueries({ queryKey: tokenKeys.all }),
  });
}
