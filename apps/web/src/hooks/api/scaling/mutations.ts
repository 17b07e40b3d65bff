import type { AutoscalePolicyBody, AutoscalePolicyResult, ScaleBody, ScaleResult } from '@qubot/api-contract';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { type ApiError, api } from '../../../lib/api-client';
import { environmentKeys } from '../environments/queries';
import { scalingKeys } from './queries';

/** Scale now: the `scale` deployment's events update the page; the environment is refetched once here. */
export function useScale(app: string, env: string) {
  const queryClient = useQueryClient();
  return useMutation<ScaleResult, ApiError, ScaleBody>({
    mutationFn: (body) =>
      api.call('POST /api/v1/apps/:app/environments/:env/scale', { params: { app, env }, body }),
    onSettled: () => queryClient.invalidateQueries({ queryKey: environmentKeys.all }),
  });
}

export function useSaveAutoscalePolicy(app: string, env: string) {
  const queryClient = useQueryClient();
  return useMutation<AutoscalePolicyResult, ApiError, AutoscalePolicyBody>({
    mutationFn: (body) =>
      api.call('PUT /api/v1/apps/:app/environments/:env/autoscale', { params: { app, env }, body }),
    onSuccess: (data) => queryClient.setQueryData(scalingKeys.policy(app, env), data),
  });
}
