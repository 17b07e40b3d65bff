import type { ApiToken, CreateTokenBody } from '@qubot/api-contract';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { type ApiError, apiFetch } from '../../../lib/api-client';
import { tokenKeys } from './queries';

export interface CreatedToken {
  token: ApiToken;
  /** Shown once: the server keeps only a hash. */
  secret: string;
}

export function useCreateToken() {
  const queryClient = useQueryClient();
  return useMutation<CreatedToken, ApiError, CreateTokenBody>({
    mutationFn: (body) => apiFetch<CreatedToken>('/tokens', { method: 'POST', body }),
    onSettled: () => queryClient.invalidateQueries({ queryKey: tokenKeys.all }),
  });
}

export function useRevokeToken() {
  const queryClient = useQueryClient();
  return useMutation<ApiToken, ApiError, string>({
    mutationFn: (id) => apiFetch<ApiToken>(`/tokens/${encodeURIComponent(id)}`, { method: 'DELETE' }),
    onSettled: () => queryClient.invalidateQueries({ queryKey: tokenKeys.all }),
  });
}
