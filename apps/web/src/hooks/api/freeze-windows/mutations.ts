import type { CreateFreezeWindowBody, FreezeWindow } from '@qubot/api-contract';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { type ApiError, apiFetch } from '../../../lib/api-client';
import { freezeWindowKeys, freezeWindowsPath } from './queries';

export function useCreateFreezeWindow(app: string, env: string) {
  const queryClient = useQueryClient();
  return useMutation<FreezeWindow, ApiError, CreateFreezeWindowBody>({
    mutationFn: (body) => apiFetch<FreezeWindow>(freezeWindowsPath(app, env), { method: 'POST', body }),
    onSettled: () => queryClient.invalidateQueries({ queryKey: freezeWindowKeys.list(app, env) }),
  });
}

export function useDeleteFreezeWindow(app: string, env: string) {
  const queryClient = useQueryClient();
  return useMutation<FreezeWindow, ApiError, { id: string }>({
    mutationFn: ({ id }) =>
      apiFetch<FreezeWindow>(`${freezeWindowsPath(app, env)}/${encodeURIComponent(id)}`, {
        method: 'DELETE',
      }),
    onSettled: () => queryClient.invalidateQueries({ queryKey: freezeWindowKeys.list(app, env) }),
  });
}
