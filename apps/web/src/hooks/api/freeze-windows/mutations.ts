import type { CreateFreezeWindowBody, FreezeWindow } from '@qubot/api-contract';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { type ApiError, api } from '../../../lib/api-client';
import { freezeWindowKeys } from './queries';

export function useCreateFreezeWindow(app: string, env: string) {
  const queryClient = useQueryClient();
  return useMutation<FreezeWindow, ApiError, CreateFreezeWindowBody>({
    mutationFn: (body) =>
      api.call('POST /api/v1/apps/:app/environments/:env/freeze-windows', { params: { app, env }, body }),
    onSettled: () => queryClient.invalidateQueries({ queryKey: freezeWindowKeys.list(app, env) }),
  });
}

export function useDeleteFreezeWindow(app: string, env: string) {
  const queryClient = useQueryClient();
  return useMutation<FreezeWindow, ApiError, { id: string }>({
    mutationFn: ({ id }) =>
      api.call('DELETE /api/v1/apps/:app/environments/:env/freeze-windows/:id', { params: { app, env, id } }),
    onSettled: () => queryClient.invalidateQueries({ queryKey: freezeWindowKeys.list(app, env) }),
  });
}
