import type {
  AnalysisProviderView,
  Color,
  Deployment,
  Environment,
  PutAnalysisProviderBody,
  ResourcesChange,
  StrategyName,
  UpdateResourcesBody,
} from '@qubot/api-contract';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { type ApiError, api } from '../../../lib/api-client';
import { invalidateRolloutViews, rememberDeployment } from '../invalidate';
import { environmentKeys } from './queries';

export interface PromoteVariables {
  env: string;
  reason?: string | undefined;
  strategy?: StrategyName | undefined;
  /** Admins, with a reason, after a freeze window refused the promotion. */
  overrideFreeze?: boolean | undefined;
  /** Admins, with a reason: past the promotion order or the verification gate. */
  override?: boolean | undefined;
}

export interface SwitchTrafficVariables {
  env: string;
  activeColor?: Color;
  weights?: { pool: Color; weight: number }[];
  reason?: string | undefined;
}

export interface RollbackVariables {
  env: string;
  version?: string | undefined;
  reason?: string | undefined;
  overrideFreeze?: boolean | undefined;
}

function withoutEmpty<T extends object>(body: T): Partial<T> {
  return Object.fromEntries(
    Object.entries(body).filter(([, v]) => v !== undefined && v !== ''),
  ) as Partial<T>;
}

/** Deploy to `env` what is live in the environment before it. */
export function usePromote(app: string) {
  const queryClient = useQueryClient();
  return useMutation<Deployment, ApiError, PromoteVariables>({
    mutationFn: ({ env, reason, strategy, overrideFreeze, override }) =>
      api.call('POST /api/v1/apps/:app/environments/:env/promote', {
        params: { app, env },
        body: withoutEmpty({
          reason,
          strategy,
          overrideFreeze: overrideFreeze || undefined,
          override: override || undefined,
        }),
      }),
    onSuccess: (deployment) => rememberDeployment(queryClient, deployment),
    onSettled: (_data, _error, { env }) => invalidateRolloutViews(queryClient, { app, env }),
  });
}

export function useSwitchTraffic(app: string) {
  const queryClient = useQueryClient();
  return useMutation<Environment, ApiError, SwitchTrafficVariables>({
    mutationFn: ({ env, ...body }) =>
      api.call('POST /api/v1/apps/:app/environments/:env/traffic', {
        params: { app, env },
        body: withoutEmpty(body),
      }),
    onSettled: (_data, _error, { env }) => invalidateRolloutViews(queryClient, { app, env }),
  });
}

export function useRollback(app: string) {
  const queryClient = useQueryClient();
  return useMutation<Deployment, ApiError, RollbackVariables>({
    mutationFn: ({ env, version, reason, overrideFreeze }) =>
      api.call('POST /api/v1/apps/:app/environments/:env/rollback', {
        params: { app, env },
        body: withoutEmpty({ version, reason, overrideFreeze: overrideFreeze || undefined }),
      }),
    onSuccess: (deployment) => rememberDeployment(queryClient, deployment),
    onSettled: (_data, _error, { env }) => invalidateRolloutViews(queryClient, { app, env }),
  });
}

export interface EnvironmentSettingsVariables {
  env: string;
  protected?: boolean | undefined;
  requiresApproval?: boolean | undefined;
  replicas?: number | undefined;
  /** null: follow protection. */
  analysisOnInconclusive?: 'fail' | 'wait' | null | undefined;
  /** Admin: hands the address over to the other traffic provider now. */
  trafficProvider?: 'node' | 'haproxy' | undefined;
  reason?: string | undefined;
}

/** Protection and approval (admin), replicas (release-manager): PATCH …/settings. */
export function useUpdateEnvironmentSettings(app: string) {
  const queryClient = useQueryClient();
  return useMutation<Environment, ApiError, EnvironmentSettingsVariables>({
    mutationFn: ({ env, ...body }) =>
      api.call('PATCH /api/v1/apps/:app/environments/:env/settings', {
        params: { app, env },
        body: withoutEmpty(body),
      }),
    onSettled: (_data, _error, { env }) => {
      void queryClient.invalidateQueries({ queryKey: environmentKeys.trafficProvider(app, env) });
      return invalidateRolloutViews(queryClient, { app, env });
    },
  });
}

/** Demo environments: the steady synthetic load on or off (release-manager, audited). */
export function useSetSyntheticLoad(app: string, env: string) {
  const queryClient = useQueryClient();
  return useMutation<Environment, ApiError, boolean>({
    mutationFn: (enabled) =>
      api.call('PUT /api/v1/apps/:app/environments/:env/synthetic-load', {
        params: { app, env },
        body: { enabled },
      }),
    onSuccess: (view) => {
      queryClient.setQueryData(environmentKeys.detail(app, env), view);
      void queryClient.invalidateQueries({ queryKey: environmentKeys.list(app) });
    },
  });
}

export interface RolloutConfigVariables {
  env: string;
  reason?: string | undefined;
}

/** "Roll out configuration": a deployment of the live release with the current configuration. */
export function useRolloutConfig(app: string) {
  const queryClient = useQueryClient();
  return useMutation<Deployment, ApiError, RolloutConfigVariables>({
    mutationFn: ({ env, reason }) =>
      api.call('POST /api/v1/apps/:app/environments/:env/config/rollout', {
        params: { app, env },
        body: withoutEmpty({ reason }),
      }),
    onSuccess: (deployment) => rememberDeployment(queryClient, deployment),
    onSettled: (_data, _error, { env }) => invalidateRolloutViews(queryClient, { app, env }),
  });
}

/** PUT …/resources: new per-instance limits; on a live environment a deployment rolls the instances. */
export function useChangeResources(app: string, env: string) {
  const queryClient = useQueryClient();
  return useMutation<ResourcesChange, ApiError, UpdateResourcesBody>({
    mutationFn: (body) =>
      api.call('PUT /api/v1/apps/:app/environments/:env/resources', { params: { app, env }, body }),
    onSuccess: (res) => {
      queryClient.setQueryData(environmentKeys.detail(app, env), res.environment);
      if (res.deployment) rememberDeployment(queryClient, res.deployment);
    },
    onSettled: () => invalidateRolloutViews(queryClient, { app, env }),
  });
}

/** PUT …/analysis-provider (admins): the answer replaces the cached setting. */
export function useSaveAnalysisProvider(app: string, env: string) {
  const queryClient = useQueryClient();
  return useMutation<AnalysisProviderView, ApiError, PutAnalysisProviderBody>({
    mutationFn: (body) =>
      api.call('PUT /api/v1/apps/:app/environments/:env/analysis-provider', { params: { app, env }, body }),
    onSuccess: (view) => queryClient.setQueryData(environmentKeys.analysisProvider(app, env), view),
  });
}
