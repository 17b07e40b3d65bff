import type { CreateDeploymentBody, Deployment } from '@qubot/api-contract';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { type ApiError, api } from '../../../lib/api-client';
import { invalidateRolloutViews, rememberDeployment } from '../invalidate';

export interface CreateDeploymentVariables extends CreateDeploymentBody {
  env: string;
}

export function useCreateDeployment(app: string) {
  const queryClient = useQueryClient();
  return useMutation<Deployment, ApiError, CreateDeploymentVariables>({
    mutationFn: ({ env, ...body }) =>
      api.call('POST /api/v1/apps/:app/environments/:env/deployments', {
        params: { app, env },
        // JSON drops `undefined`, so an empty reason is simply not sent (the schema is strict).
        body: { ...body, reason: body.reason || undefined },
      }),
    onSuccess: (deployment) => rememberDeployment(queryClient, deployment),
    onSettled: (_data, _error, { env }) => invalidateRolloutViews(queryClient, { app, env }),
  });
}

export const DEPLOYMENT_ACTIONS = ['pause', 'resume', 'abort', 'advance', 'approve'] as const;
export type DeploymentAction = (typeof DEPLOYMENT_ACTIONS)[number];

export interface DeploymentControlVariables {
  id: string;
  action: DeploymentAction;
  reason?: string | undefined;
  /** For invalidating the environment views the deployment belongs to. */
  app?: string | undefined;
  env?: string | undefined;
}

export function useDeploymentControl() {
  const queryClient = useQueryClient();
  return useMutation<Deployment, ApiError, DeploymentControlVariables>({
    mutationFn: ({ id, action, reason }) =>
      api.call(`POST /api/v1/deployments/:id/${action}`, {
        params: { id },
        body: reason ? { reason } : {},
      }),
    onSuccess: (deployment) => rememberDeployment(queryClient, deployment),
    onSettled: (_data, _error, { id, app, env }) =>
      invalidateRolloutViews(queryClient, { app, env, deploymentId: id }),
  });
}

export interface RedeployVariables {
  id: string;
  reason?: string | undefined;
  app: string;
  env: string;
}

/** Deploy again what a past deployment shipped (release, strategy, options, configuration version). */
export function useRedeploy() {
  const queryClient = useQueryClient();
  return useMutation<Deployment, ApiError, RedeployVariables>({
    mutationFn: ({ id, reason }) =>
      api.call('POST /api/v1/deployments/:id/redeploy', {
        params: { id },
        body: reason ? { reason } : {},
      }),
    onSuccess: (deployment) => rememberDeployment(queryClient, deployment),
    onSettled: (_data, _error, { app, env }) => invalidateRolloutViews(queryClient, { app, env }),
  });
}
