import type { FreezeWindow, List } from '@qubot/api-contract';
import { useQuery } from '@tanstack/react-query';
import { apiFetch } from '../../../lib/api-client';

export const freezeWindowKeys = {
  all: ['freeze-windows'] as const,
  list: (app: string, env: string) => [...freezeWindowKeys.all, app, env] as const,
};

const enc = encodeURIComponent;
export const freezeWindowsPath = (app: string, env: string) =>
  `/apps/${enc(app)}/environments/${enc(env)}/freeze-windows`;

/** Freeze windows change rarely and emit no events: refetched on focus and after a change here. */
export function useFreezeWindows(app: string, env: string) {
  return useQuery({
    queryKey: freezeWindowKeys.list(app, env),
    queryFn: ({ signal }) => apiFetch<List<FreezeWindow>>(freezeWindowsPath(app, env), { signal }),
    enabled: Boolean(app && env),
  });
}
