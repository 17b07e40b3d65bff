import {
  AppParams,
  CreatedWebhook,
  CreateWebhookBody,
  ListOf,
  UpdateWebhookBody,
  UpdateWebhookSettingsBody,
  Webhook,
  WebhookDelivery,
  WebhookDeliveryParams,
  WebhookDeliveryQuery,
  WebhookParams,
  WebhookSettings,
} from '@qubot/api-contract';
import type { FastifyInstance } from 'fastify';
import { errorResponses, typed } from './route-kit.ts';

const errors = errorResponses(400, 401, 403, 404, 409);

/** Outgoing webhooks of an application and the admin's webhook settings (docs/webhooks.md). */
export default async function webhookRouter(parent: FastifyInstance) {
  const app = typed(parent);
  const hooks = app.webhooks;
  const tags = ['webhooks'];
  app.get(
    '/apps/:app/webhooks',
    {
      onRequest: app.authenticate,
      schema: {
        tags,
        summary: "The application's webhooks (release-manager)",
        params: AppParams,
        response: { 200: ListOf(Webhook), ...errors },
      },
    },
    async (request) => hooks.list(request.ctx(), request.params.app),
  );
  app.post(
    '/apps/:app/webhooks',
    {
      onRequest: app.authenticate,
      schema: {
        tags,
        summary:
          'Create a webhook (release-manager). The answer holds the signing secret, shown this once. 400 naming `url` for an endpoint on a loopback/private/link-local address unless an admin allows them',
        params: AppParams,
        body: CreateWebhookBody,
        response: { 201: CreatedWebhook, ...errors },
      },
    },
    async (request, reply) =>
      reply.status(201).send(await hooks.create(request.ctx(), request.params.app, request.body)),
  );
  app.get(
    '/apps/:app/webhooks/:id',
    {
      onRequest: app.authenticate,
      schema: {
        tags,
        summary: 'One webhook (release-manager); the secret is never shown again',
        params: WebhookParams,
        response: { 200: Webhook, ...errors },
      },
    },
    async (request) => hooks.get(request.ctx(), request.params.app, request.params.id),
  );
  app.patch(
    '/apps/:app/webhooks/:id',
    {
      onRequest: app.authenticate,
      schema: {
        tags,
        summary: 'Change a webhook: name, URL, event types, format, enabled (release-manager)',
        params: WebhookParams,
        body: UpdateWebhookBody,
        response: { 200: Webhook, ...errors },
      },
    },
    async (request) => hooks.update(request.ctx(), request.params.app, request.params.id, request.body),
  );
  app.delete(
    '/apps/:app/webhooks/:id',
    {
      onRequest: app.authenticate,
      schema: {
        tags,
        summary: 'Delete a webhook and its delivery log (release-manager)',
        params: WebhookParams,
        response: { 200: Webhook, ...errors },
      },
    },
    async (request) => hooks.remove(request.ctx(), request.params.app, request.params.id),
  );
  app.get(
    '/apps/:app/webhooks/:id/deliveries',
    {
      onRequest: app.authenticate,
      schema: {
        tags,
        summary:
          'The delivery log, newest first, cursor-paginated: status, attempts, HTTP status, latency and the start of the answer (release-manager)',
        params: WebhookParams,
        querystring: WebhookDeliveryQuery,
        response: { 200: ListOf(WebhookDelivery), ...errors },
      },
    },
    async (request) => hooks.deliveries(request.ctx(), request.params.app, request.params.id, request.query),
  );
  app.post(
    '/apps/:app/webhooks/:id/deliveries/:delivery/redeliver',
    {
      onRequest: app.authenticate,
      schema: {
        tags,
        summary:
          "Send a delivery's event again, as a new delivery (release-manager); 409 while a redelivery of it is still queued or running",
        params: WebhookDeliveryParams,
        response: { 202: WebhookDelivery, ...errors },
      },
    },
    async (request, reply) =>
      reply
        .status(202)
        .send(
          await hooks.redeliver(
            request.ctx(),
            request.params.app,
            request.params.id,
            request.params.delivery,
          ),
        ),
  );
  app.get(
    '/settings/webhooks',
    {
      onRequest: app.authenticate,
      schema: {
        tags,
        summary: 'Webhook settings (admin): whether endpoints on private addresses are allowed',
        response: { 200: WebhookSettings, ...errors },
      },
    },
    async (request) => hooks.settings(request.ctx()),
  );
  app.put(
    '/settings/webhooks',
    {
      onRequest: app.authenticate,
      schema: {
        tags,
        summary:
          'Allow or refuse webhook endpoints on loopback/private/link-local addresses (admin, audited)',
        body: UpdateWebhookSettingsBody,
        response: { 200: WebhookSettings, ...errors },
      },
    },
    async (request) => hooks.updateSettings(request.ctx(), request.body),
  );
}
