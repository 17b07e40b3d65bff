import { useMutation, useQueryClient } from '@tanstack/react-query';
import { type ApiError, apiFetch } from '../../../lib/api-client';
import { authKeys } from './queries';

export interface LoginVariables {
  username: string;
  password: string;
}

export function useLogin() {
  const queryClient = useQueryClient();
  return useMutation<unknown, ApiError, LoginVariables>({
    mutationFn: (body) => apiFetch<unknown>('/auth/login', { method: 'POST', body }),
    // Every cached answer may depend on who asks.
    onSuccess: () => queryClient.invalidateQueries(),
  });
}

export function useLogout() {
  const queryClient = useQueryClient();
  return useMutation<unknown, ApiError, void>({
    mutationFn: () => apiFetch<unknown>('/auth/logout', { method: 'POST' }),
    onSuccess: () => {
      queryClient.setQueryData(authKeys.me(), null);
      queryClient.removeQueries({ predicate: (q) => q.queryKey[0] !== authKeys.all[0] });
    },
  });
}
