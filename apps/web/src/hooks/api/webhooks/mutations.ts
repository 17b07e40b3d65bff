import type {
  CreatedWebhook,
  CreateWebhookBody,
  UpdateWebhookBody,
  UpdateWebhookSettingsBody,
  Webhook,
  WebhookDelivery,
  WebhookSettings,
} from '@qubot/api-contract';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { type ApiError, api } from '../../../lib/api-client';
import { webhookKeys } from './queries';

export function useCreateWebhook(app: string) {
  const queryClient = useQueryClient();
  return useMutation<CreatedWebhook, ApiError, CreateWebhookBody>({
    mutationFn: (body) => api.call('POST /api/v1/apps/:app/webhooks', { params: { app }, body }),
    onSettled: () => queryClient.invalidateQueries({ queryKey: webhookKeys.list(app) }),
  });
}

export function useUpdateWebhook(app: string) {
  const queryClient = useQueryClient();
  return useMutation<Webhook, ApiError, { id: string; body: UpdateWebhookBody }>({
    mutationFn: ({ id, body }) =>
      api.call('PATCH /api/v1/apps/:app/webhooks/:id', { params: { app, id }, body }),
    onSettled: () => queryClient.invalidateQueries({ queryKey: webhookKeys.list(app) }),
  });
}

export function useDeleteWebhook(app: string) {
  const queryClient = useQueryClient();
  return useMutation<Webhook, ApiError, string>({
    mutationFn: (id) => api.call('DELETE /api/v1/apps/:app/webhooks/:id', { params: { app, id } }),
    onSettled: () => queryClient.invalidateQueries({ queryKey: webhookKeys.list(app) }),
  });
}

export function useRedeliver(app: string, id: string) {
  const queryClient = useQueryClient();
  return useMutation<WebhookDelivery, ApiError, string>({
    mutationFn: (delivery) =>
      api.call('POST /api/v1/apps/:app/webhooks/:id/deliveries/:delivery/redeliver', {
        params: { app, id, delivery },
      }),
    onSettled: () => queryClient.invalidateQueries({ queryKey: webhookKeys.deliveries(app, id) }),
  });
}

export function useUpdateWebhookSettings() {
  const queryClient = useQueryClient();
  return useMutation<WebhookSettings, ApiError, UpdateWebhookSettingsBody>({
    mutationFn: (body) => api.call('PUT /api/v1/settings/webhooks', { body }),
    onSettled: () => queryClient.invalidateQueries({ queryKey: webhookKeys.settings() }),
  });
}
