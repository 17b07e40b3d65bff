import type { CreateUserBody, UpdateUserBody, User } from '@qubot/api-contract';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { type ApiError, apiFetch } from '../../../lib/api-client';
import { userKeys } from './queries';

/** What the server answers on create and update: the one-time password is shown once. */
export interface UserWithPassword {
  user: User;
  oneTimePassword: string | null;
}

export function useCreateUser() {
  const queryClient = useQueryClient();
  return useMutation<UserWithPassword, ApiError, CreateUserBody>({
    mutationFn: (body) => apiFetch<UserWithPassword>('/users', { method: 'POST', body }),
    onSettled: () => queryClient.invalidateQueries({ queryKey: userKeys.all }),
  });
}

export function useUpdateUser() {
  const queryClient = useQueryClient();
  return useMutation<UserWithPassword, ApiError, { id: string } & UpdateUserBody>({
    mutationFn: ({ id, ...body }) =>
      apiFetch<UserWithPassword>(`/users/${encodeURIComponent(id)}`, { method: 'PATCH', body }),
    onSettled: () => queryClient.invalidateQueries({ queryKey: userKeys.all }),
  });
}
