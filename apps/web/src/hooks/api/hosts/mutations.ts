import type { CreatedEnrolmentToken, CreateEnrolmentTokenBody, Host } from '@qubot/api-contract';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { type ApiError, api } from '../../../lib/api-client';
import { hostKeys } from './queries';

export type HostAction = 'cordon' | 'uncordon' | 'drain' | 'revoke';

export function useHostAction() {
  const queryClient = useQueryClient();
  return useMutation<Host, ApiError, { id: string; action: HostAction; reason?: string }>({
    mutationFn: ({ id, action, reason }) =>
      api.call('POST /api/v1/hosts/:id/:action', { params: { id, action }, body: reason ? { reason } : {} }),
    onSettled: () => queryClient.invalidateQueries({ queryKey: hostKeys.all }),
  });
}

export function useCreateEnrolmentToken() {
  const queryClient = useQueryClient();
  return useMutation<CreatedEnrolmentToken, ApiError, CreateEnrolmentTokenBody>({
    mutationFn: (body) => api.call('POST /api/v1/hosts/enrolment-tokens', { body }),
    onSettled: () => queryClient.invalidateQueries({ queryKey: hostKeys.tokens() }),
  });
}
