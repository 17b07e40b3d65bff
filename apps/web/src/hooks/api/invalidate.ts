import type { Deployment } from '@qubot/api-contract';
import type { QueryClient } from '@tanstack/react-query';
import { deploymentKeys } from './deployments/queries';
import { environmentKeys } from './environments/queries';
import { releaseKeys } from './releases/queries';

/** Anything that starts, stops or changes a deployment changes these views. */
export async function invalidateRolloutViews(
  queryClient: QueryClient,
  target: { app?: string | undefined; env?: string | undefined; deploymentId?: string | undefined },
): Promise<void> {
  const tasks = [
    queryClient.invalidateQueries({
      queryKey: target.app ? environmentKeys.list(target.app) : environmentKeys.lists(),
    }),
    queryClient.invalidateQueries({
      queryKey:
        target.app && target.env ? environmentKeys.detail(target.app, target.env) : environmentKeys.details(),
    }),
    queryClient.invalidateQueries({ queryKey: deploymentKeys.lists() }),
    queryClient.invalidateQueries({ queryKey: releaseKeys.all }),
  ];
  if (target.deploymentId) {
    tasks.push(queryClient.invalidateQueries({ queryKey: deploymentKeys.detail(target.deploymentId) }));
  }
  await Promise.all(tasks);
}

function looksLikeDeployment(value: unknown): value is Deployment {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Partial<Deployment>;
  return typeof v.id === 'string' && typeof v.status === 'string' && Array.isArray(v.steps);
}

/** Seed the detail cache with what the server answered, so the detail page opens instantly. */
export function rememberDeployment(queryClient: QueryClient, value: unknown): void {
  if (looksLikeDeployment(value)) queryClient.setQueryData(deploymentKeys.detail(value.id), value);
}
