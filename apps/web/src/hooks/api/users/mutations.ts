import type { CreateUserBody, UpdateUserBody, UserWithPassword } from '@qubot/api-contract';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { type ApiError, api } from '../../../lib/api-client';
import { userKeys } from './queries';

export function useCreateUser() {
  const queryClient = useQueryClient();
  return useMutation<UserWithPassword, ApiError, CreateUserBody>({
    mutationFn: (body) => api.call('POST /api/v1/users', { body }),
    onSettled: () => queryClient.invalidateQueries({ queryKey: userKeys.all }),
  });
}

export function useUpdateUser() {
  const queryClient = useQueryClient();
  return useMutation<UserWithPassword, ApiError, { id: string } & UpdateUserBody>({
    mutationFn: ({ id, ...body }) => api.call('PATCH /api/v1/users/:id', { params: { id }, body }),
    onSettled: () => queryClient.invalidateQueries({ queryKey: userKeys.all }),
  });
}
