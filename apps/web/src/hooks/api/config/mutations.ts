import type { ConfigVersion, PutConfigBody } from '@qubot/api-contract';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { type ApiError, apiFetch } from '../../../lib/api-client';
import { configKeys } from './queries';

const enc = encodeURIComponent;

/** Write the next configuration version of one environment. */
export function useSaveConfig(app: string, env: string) {
  const queryClient = useQueryClient();
  return useMutation<ConfigVersion, ApiError, PutConfigBody>({
    mutationFn: (body) =>
      apiFetch<ConfigVersion>(`/apps/${enc(app)}/environments/${enc(env)}/config`, { method: 'PUT', body }),
    onSuccess: (config) => queryClient.setQueryData(configKeys.current(app, env), config),
    // Versions, diffs of this environment, and every preview or cross-environment diff.
    onSettled: () => queryClient.invalidateQueries({ queryKey: configKeys.all }),
  });
}
