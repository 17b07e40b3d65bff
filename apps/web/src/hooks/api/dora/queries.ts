import type { DoraReport } from '@qubot/api-contract';
import { useQuery } from '@tanstack/react-query';
import { api } from '../../../lib/api-client';

export const doraKeys = {
  all: ['dora'] as const,
  report: (app: string) => [...doraKeys.all, app] as const,
};

export const fetchDora = (app: string, signal?: AbortSignal) =>
  api.call('GET /api/v1/apps/:app/dora', { params: { app }, signal: signal ?? null });

/** An application's DORA figures; refreshed when a deployment of it finishes (lib/events.ts). */
export function useDora(app: string | undefined) {
  return useQuery<DoraReport>({
    queryKey: doraKeys.report(app ?? ''),
    queryFn: ({ signal }) => fetchDora(app!, signal),
    enabled: Boolean(app),
    // Days roll over: a page left open still moves to the new day within the hour.
    staleTime: 60_000,
    refetchInterval: 3_600_000,
  });
}
