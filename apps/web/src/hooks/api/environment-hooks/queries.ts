import { useQuery } from '@tanstack/react-query';
import { api } from '../../../lib/api-client';

export const environmentHookKeys = {
  all: ['environment-hooks'] as const,
  detail: (app: string, env: string) => [...environmentHookKeys.all, app, env] as const,
};

/** An environment's pre/post-deployment hooks (docs/hooks.md); they change only through the form. */
export function useEnvironmentHooks(app: string, env: string) {
  return useQuery({
    queryKey: environmentHookKeys.detail(app, env),
    queryFn: ({ signal }) =>
      api.call('GET /api/v1/apps/:app/environments/:env/hooks', { params: { app, env }, signal }),
  });
}
