import type { EnvironmentHooks, PutHooksBody } from '@qubot/api-contract';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { type ApiError, api } from '../../../lib/api-client';
import { environmentHookKeys } from './queries';

/** Set (or remove, with null) an environment's hooks; the answer is what is stored. */
export function useUpdateEnvironmentHooks(app: string, env: string) {
  const queryClient = useQueryClient();
  return useMutation<EnvironmentHooks, ApiError, PutHooksBody>({
    mutationFn: (body) =>
      api.call('PUT /api/v1/apps/:app/environments/:env/hooks', { params: { app, env }, body }),
    onSuccess: (saved) => queryClient.setQueryData(environmentHookKeys.detail(app, env), saved),
    onSettled: () => queryClient.invalidateQueries({ queryKey: environmentHookKeys.detail(app, env) }),
  });
}
