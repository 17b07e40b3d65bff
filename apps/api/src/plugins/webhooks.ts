// Outgoing webhooks (docs/webhooks.md): the service behind the routes and, in worker processes,
// the delivery worker. Every process's event bus hears each stored event (LISTEN qubot_events);
// a worker then looks for due deliveries at once, and every `pollMs` otherwise (retries, a lease
// run out).
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { createWebhookService, type WebhookService } from '../services/webhook-service.ts';
import {
  createWebhookWorker,
  DEFAULT_WEBHOOK_OPTIONS,
  type WebhookDeliveryOptions,
  type WebhookWorker,
} from '../webhooks/webhook-worker.ts';

export interface WebhookPluginOptions extends Partial<WebhookDeliveryOptions> {
  /** Deliver in this process (roles `all` and `worker`, like the orchestrator). */
  worker: boolean;
}

declare module 'fastify' {
  interface FastifyInstance {
    webhooks: WebhookService;
    /** This process's delivery worker, when it runs one. */
    webhookWorker: WebhookWorker | null;
  }
}

export default fp(
  async (app: FastifyInstance, opts: WebhookPluginOptions) => {
    const options: WebhookDeliveryOptions = { ...DEFAULT_WEBHOOK_OPTIONS, ...opts };
    const names = new Map<string, string>();
    const worker = opts.worker
      ? createWebhookWorker({
          repo: app.repos.webhooks,
          secrets: app.services.secrets,
          options,
          // Application names never change; one lookup per application and process.
          applicationName: async (id) => {
            let name = names.get(id);
            if (!name) {
              const row = await app.db.prisma.application.findUnique({
                where: { id },
                select: { name: true },
              });
              name = row?.name ?? id;
              names.set(id, name);
            }
            return name;
          },
          onError: (err) => app.log.error({ err }, 'webhook delivery failed to run'),
        })
      : null;
    app.decorate('webhookWorker', worker);
    app.decorate(
      'webhooks',
      createWebhookService({
        transact: app.repos.transact,
        webhooks: app.repos.webhooks,
        catalog: app.services.catalog,
        secrets: app.services.secrets,
        wake: () => worker?.wake(),
      }),
    );
    if (!worker) return;
    app.eventBus.onNotified(() => worker.wake());
    app.addHook('onReady', async () => worker.start());
    app.addHook('onClose', async () => worker.stop());
  },
  { name: 'webhooks', dependencies: ['database', 'services', 'event-bus'] },
);
