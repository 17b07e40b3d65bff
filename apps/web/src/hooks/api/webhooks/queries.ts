import { useInfiniteQuery, useQuery } from '@tanstack/react-query';
import { api } from '../../../lib/api-client';
import { livePollInterval } from '../../../lib/live-status';

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

/**
 * A webhook's delivery log, newest first, in keyset pages. Each attempt's outcome arrives as a
 * `webhook.delivery` event that patches this cache (lib/events.ts); it is polled only while the
 * event stream is down (DESIGN §5).
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
    refetchInterval: livePollInterval,
  });
}

export function useWebhookSettings(enabled = true) {
  return useQuery({
    queryKey: webhookKeys.settings(),
    queryFn: ({ signal }) => api.call('GET /api/v1/settings/webhooks', { signal }),
    enabled,
  });
}
