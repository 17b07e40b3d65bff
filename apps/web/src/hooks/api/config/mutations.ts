import type { ConfigVersion, PutConfigBody } from '@qubot/api-contract';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { type ApiError, api } from '../../../lib/api-client';
import { configKeys } from './queries';

/** Write the next configuration version of one environment. */
export function useSaveConfig(app: string, env: string) {
  const queryClient = useQueryClient();
  return useMutation<ConfigVersion, ApiError, PutConfigBody>({
    mutationFn: (body) =>
      api.call('PUT /api/v1/apps/:app/environments/:env/config', { params: { app, env }, body }),
    onSuccess: (config) => queryClient.setQueryData(configKeys.current(app, env), config),
    // Versions, diffs of this environment, and every preview or cross-environment diff.
    onSettled: () => queryClient.invalidateQueries({ queryKey: configKeys.all }),
  });
}
