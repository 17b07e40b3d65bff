import type { EnvironmentPolicy, List, UpdatePolicyBody } from '@qubot/api-contract';
import { type QueryClient, useMutation, useQueryClient } from '@tanstack/react-query';
import { type ApiError, api } from '../../../lib/api-client';
import { policyKeys } from './queries';

/** The answer is the environment's policy as stored: put it into the list at once. */
function store(queryClient: QueryClient, app: string, saved: EnvironmentPolicy) {
  queryClient.setQueryData<List<EnvironmentPolicy>>(policyKeys.list(app), (old) =>
    old ? { ...old, items: old.items.map((i) => (i.environment === saved.environment ? saved : i)) } : old,
  );
}

export function useUpdatePolicy(app: string, env: string) {
  const queryClient = useQueryClient();
  return useMutation<EnvironmentPolicy, ApiError, UpdatePolicyBody>({
    mutationFn: (body) =>
      api.call('PUT /api/v1/apps/:app/environments/:env/policy', { params: { app, env }, body }),
    onSuccess: (saved) => store(queryClient, app, saved),
    onSettled: () => queryClient.invalidateQueries({ queryKey: policyKeys.list(app) }),
  });
}

/** One click: pause (or resume) the environment's policy. */
export function usePausePolicy(app: string, env: string) {
  const queryClient = useQueryClient();
  return useMutation<EnvironmentPolicy, ApiError, { action: 'pause' | 'resume'; reason?: string }>({
    mutationFn: ({ action, reason }) =>
      api.call(
        action === 'pause'
          ? 'POST /api/v1/apps/:app/environments/:env/policy/pause'
          : 'POST /api/v1/apps/:app/environments/:env/policy/resume',
        { params: { app, env }, body: reason ? { reason } : {} },
      ),
    onSuccess: (saved) => store(queryClient, app, saved),
    onSettled: () => queryClient.invalidateQueries({ queryKey: policyKeys.list(app) }),
  });
}
