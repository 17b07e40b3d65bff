import type { WebhookDelivery } from '@qubot/api-contract';
import { useInfiniteQuery, useQuery } from '@tanstack/react-query';
import { api } from '../../../lib/api-client';

export const webhookKeys = {
  all: ['webhooks'] as const,
  lists: () => [...webhookKeys.all, 'list'] as const,
  list: (app: string) => [...webhookKeys.lists(), app] as const,
  deliveries: (app: string, id: string) => [...webhookKeys.all, 'deliveries', app, id] as const,
  settings: () => [...webhookKeys.all, 'settings'] as const,
};

export function useWebhooks(app: string | undefined, enabled = true) {
  return useQuery({
    queryKey: webhookKeys.list(app ?? ''),
    queryFn: ({ signal }) => api.call('GET /api/v1/apps/:app/webhooks', { params: { app: app! }, signal }),
    enabled: Boolean(app) && enabled,
  });
}

const isOpen = (d: WebhookDelivery) => d.status === 'pending' || d.status === 'delivering';

/**
 * A webhook's delivery log, newest first, in keyset pages. Deliveries are not events (they would
 * flood the stream), so the open log is read again every few seconds — every second while one of
 * its deliveries is still on its way.
 */
export function useWebhookDeliveries(app: string, id: string | null) {
  return useInfiniteQuery({
    queryKey: webhookKeys.deliveries(app, id ?? ''),
    queryFn: ({ pageParam, signal }) =>
      api.call('GET /api/v1/apps/:app/webhooks/:id/deliveries', {
        params: { app, id: id! },
        query: { cursor: pageParam ?? undefined },
        signal,
      }),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.nextCursor,
    enabled: Boolean(app && id),
    refetchInterval: (query) => (query.state.data?.pages.some((p) => p.items.some(isOpen)) ? 1000 : 5000),
  });
}

export function useWebhookSettings(enabled = true) {
  return useQuery({
    queryKey: webhookKeys.settings(),
    queryFn: ({ signal }) => api.call('GET /api/v1/settings/webhooks', { signal }),
    enabled,
  });
}
