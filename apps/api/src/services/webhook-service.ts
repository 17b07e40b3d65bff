// Outgoing webhooks of an application (docs/webhooks.md): who may manage them, the endpoint check
// (no SSRF), the secret shown once, the delivery log and redelivery. Delivery itself is the
// worker's (webhooks/webhook-worker.ts).
import { randomBytes, randomUUID } from 'node:crypto';
import type {
  CreatedWebhook,
  CreateWebhookBody,
  UpdateWebhookBody,
  UpdateWebhookSettingsBody,
  Webhook,
  WebhookDelivery,
  WebhookDeliveryStatus,
  WebhookEvent,
  WebhookFormat,
  WebhookSettings,
} from '@qubot/api-contract';
import { appendAudit, page, type Transact, type WebhookRepo } from '@qubot/db';
import { AppError } from '../lib/app-error.ts';
import { requirePermission } from '../lib/permissions.ts';
import type { RequestContext } from '../lib/request-context.ts';
import type { SecretBox } from '../lib/secret-box.ts';
import { assertPublicHost, BlockedAddressError } from '../webhooks/url-guard.ts';
import type { CatalogService } from './catalog-service.ts';
import { withCursor } from './with-cursor.ts';

type WebhookRow = NonNullable<Awaited<ReturnType<WebhookRepo['findById']>>>;
type DeliveryRow = NonNullable<Awaited<ReturnType<WebhookRepo['findDelivery']>>>;

export function webhookView(w: WebhookRow, application: string): Webhook {
  return {
    id: w.id,
    application,
    name: w.name,
    url: w.url,
    events: w.events as WebhookEvent[],
    format: w.format as WebhookFormat,
    enabled: w.enabled,
    createdBy: w.createdBy,
    createdAt: w.createdAt.toISOString(),
    updatedAt: w.updatedAt.toISOString(),
  };
}

export function deliveryView(d: DeliveryRow): WebhookDelivery {
  const open = d.status === 'pending' || d.status === 'delivering';
  return {
    id: d.id,
    webhookId: d.webhookId,
    eventSeq: Number(d.eventSeq),
    event: d.eventType,
    status: d.status as WebhookDeliveryStatus,
    attempts: d.attempts,
    nextAttemptAt: open ? d.nextAttemptAt.toISOString() : null,
    statusCode: d.statusCode,
    latencyMs: d.latencyMs,
    responseExcerpt: d.responseExcerpt,
    error: d.error,
    redeliveryOf: d.redeliveryOf,
    requestedBy: d.requestedBy,
    createdAt: d.createdAt.toISOString(),
    finishedAt: d.finishedAt?.toISOString() ?? null,
  };
}

function settingsView(s: {
  allowPrivateTargets: boolean;
  updatedBy: string | null;
  updatedAt: Date;
}): WebhookSettings {
  return {
    allowPrivateTargets: s.allowPrivateTargets,
    updatedBy: s.updatedBy,
    updatedAt: s.updatedAt.toISOString(),
  };
}

/** What the audit trail keeps of a webhook (never its secret). */
const audited = (v: Webhook) => ({
  name: v.name,
  url: v.url,
  events: v.events,
  format: v.format,
  enabled: v.enabled,
});

const isUniqueViolation = (err: unknown) => (err as { code?: string }).code === 'P2002';

/** The signing secret: 32 random bytes, shown once. */
const newSecret = () => `whsec_${randomBytes(32).toString('base64url')}`;
const secretContext = (id: string) => `webhook:${id}`;

/** Only what changes the check: a URL with credentials in it would end up in logs and the UI. */
async function checkUrl(raw: string, allowPrivate: boolean): Promise<string> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw AppError.badField('url', 'is not a valid URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw AppError.badField('url', 'must be an http or https URL');
  if (url.username || url.password)
    throw AppError.badField('url', 'must not carry a user name or password; the signature authenticates');
  if (!allowPrivate) {
    try {
      await assertPublicHost(url.hostname);
    } catch (err) {
      if (err instanceof BlockedAddressError) throw AppError.badField('url', err.message);
      throw AppError.badField('url', `host ${url.hostname} does not resolve`);
    }
  }
  return url.toString();
}

export function createWebhookService(deps: {
  transact: Transact;
  webhooks: Pick<
    WebhookRepo,
    | 'list'
    | 'find'
    | 'create'
    | 'update'
    | 'delete'
    | 'deliveries'
    | 'findDelivery'
    | 'createRedelivery'
    | 'settings'
    | 'lockSettings'
    | 'updateSettings'
  >;
  catalog: Pick<CatalogService, 'requireApp'>;
  secrets: SecretBox;
  /** Tells this process's worker that a delivery is due now. */
  wake?: () => void;
}) {
  const { transact, webhooks } = deps;

  async function requireHook(ctx: RequestContext, appName: string, id: string) {
    requirePermission(ctx, 'webhooks.manage', { application: appName });
    const app = await deps.catalog.requireApp(appName);
    const hook = await webhooks.find(id, app.id);
    if (!hook) throw AppError.notFound(`webhook ${id} of "${appName}"`, { field: 'params.id' });
    return { app, hook };
  }

  const nameTaken = (name: string) =>
    AppError.conflict(`a webhook named "${name}" already exists for this application`, {
      field: 'body.name',
    });

  return {
    async list(ctx: RequestContext, appName: string) {
      requirePermission(ctx, 'webhooks.manage', { application: appName });
      const app = await deps.catalog.requireApp(appName);
      const rows = await webhooks.list(app.id);
      return { items: rows.map((w) => webhookView(w, app.name)), nextCursor: null };
    },

    async get(ctx: RequestContext, appName: string, id: string): Promise<Webhook> {
      const { app, hook } = await requireHook(ctx, appName, id);
      return webhookView(hook, app.name);
    },

    async create(ctx: RequestContext, appName: string, body: CreateWebhookBody): Promise<CreatedWebhook> {
      requirePermission(ctx, 'webhooks.manage', { application: appName });
      const app = await deps.catalog.requireApp(appName);
      const settings = await webhooks.settings();
      const url = await checkUrl(body.url, settings.allowPrivateTargets);
      const secret = newSecret();
      try {
        const row = await transact(async (tx) => {
          // The id is the encryption's associated data: a secret copied to another webhook fails.
          const id = randomUUID();
          const created = await webhooks.create(
            {
              id,
              applicationId: app.id,
              name: body.name,
              url,
              events: [...new Set(body.events)],
              format: body.format ?? 'json',
              enabled: body.enabled ?? true,
              secret: deps.secrets.encrypt(secret, secretContext(id)),
              createdBy: ctx.actor.name,
            },
            tx,
          );
          await appendAudit(tx, {
            ...ctx.auditFields(),
            action: 'webhook.create',
            targetType: 'webhook',
            targetId: created.id,
            target: app.name,
            after: audited(webhookView(created, app.name)),
          });
          return created;
        });
        return { ...webhookView(row, app.name), secret };
      } catch (err) {
        if (isUniqueViolation(err)) throw nameTaken(body.name);
        throw err;
      }
    },

    async update(
      ctx: RequestContext,
      appName: string,
      id: string,
      body: UpdateWebhookBody,
    ): Promise<Webhook> {
      const { app, hook } = await requireHook(ctx, appName, id);
      const data: Parameters<WebhookRepo['update']>[2] = {};
      if (body.name !== undefined) data.name = body.name;
      if (body.url !== undefined)
        data.url = await checkUrl(body.url, (await webhooks.settings()).allowPrivateTargets);
      if (body.events !== undefined) data.events = [...new Set(body.events)];
      if (body.format !== undefined) data.format = body.format;
      if (body.enabled !== undefined) data.enabled = body.enabled;
      try {
        return await transact(async (tx) => {
          const row = await webhooks.update(id, app.id, data, tx);
          if (!row) throw AppError.notFound(`webhook ${id} of "${appName}"`, { field: 'params.id' });
          const after = webhookView(row, app.name);
          await appendAudit(tx, {
            ...ctx.auditFields(),
            action: 'webhook.update',
            targetType: 'webhook',
            targetId: id,
            target: app.name,
            before: audited(webhookView(hook, app.name)),
            after: audited(after),
          });
          return after;
        });
      } catch (err) {
        if (isUniqueViolation(err) && body.name) throw nameTaken(body.name);
        throw err;
      }
    },

    async remove(ctx: RequestContext, appName: string, id: string): Promise<Webhook> {
      const { app, hook } = await requireHook(ctx, appName, id);
      return transact(async (tx) => {
        if (!(await webhooks.delete(id, app.id, tx)))
          throw AppError.notFound(`webhook ${id} of "${appName}"`, { field: 'params.id' });
        const view = webhookView(hook, app.name);
        await appendAudit(tx, {
          ...ctx.auditFields(),
          action: 'webhook.delete',
          targetType: 'webhook',
          targetId: id,
          target: app.name,
          before: audited(view),
        });
        return view;
      });
    },

    /** The delivery log, newest first, in keyset pages. */
    async deliveries(
      ctx: RequestContext,
      appName: string,
      id: string,
      query: { cursor?: string | undefined; limit?: number | undefined },
    ) {
      const { hook } = await requireHook(ctx, appName, id);
      const limit = query.limit ?? 50;
      const rows = await withCursor(() => webhooks.deliveries(hook.id, query.cursor, limit));
      const { items, nextCursor } = page(rows, limit);
      return { items: items.map(deliveryView), nextCursor };
    },

    /**
     * Sends a delivery's event again, as a new delivery (the log keeps both). One open redelivery
     * per delivery: a second request while it is queued or running is 409.
     */
    async redeliver(ctx: RequestContext, appName: string, id: string, deliveryId: string) {
      const { app, hook } = await requireHook(ctx, appName, id);
      const original = await webhooks.findDelivery(deliveryId, hook.id);
      if (!original) throw AppError.notFound(`delivery ${deliveryId}`, { field: 'params.delivery' });
      try {
        const row = await transact(async (tx) => {
          const created = await webhooks.createRedelivery(original, ctx.actor.name, tx);
          await appendAudit(tx, {
            ...ctx.auditFields(),
            action: 'webhook.redeliver',
            targetType: 'webhook',
            targetId: hook.id,
            target: app.name,
            after: { delivery: created.id, redeliveryOf: original.id, event: original.eventType },
          });
          return created;
        });
        deps.wake?.();
        return deliveryView(row);
      } catch (err) {
        if (isUniqueViolation(err))
          throw AppError.conflict(`delivery ${deliveryId} is already being sent again`, {
            field: 'params.delivery',
          });
        throw err;
      }
    },

    async settings(ctx: RequestContext): Promise<WebhookSettings> {
      requirePermission(ctx, 'settings.manage');
      return settingsView(await webhooks.settings());
    },

    async updateSettings(ctx: RequestContext, body: UpdateWebhookSettingsBody): Promise<WebhookSettings> {
      requirePermission(ctx, 'settings.manage');
      const s = await transact(async (tx) => {
        const before = await webhooks.lockSettings(tx);
        const after = await webhooks.updateSettings(
          { allowPrivateTargets: body.allowPrivateTargets, updatedBy: ctx.actor.name },
          tx,
        );
        await appendAudit(tx, {
          ...ctx.auditFields(),
          action: 'settings.webhooks',
          targetType: 'settings',
          target: 'webhooks',
          reason: body.reason ?? null,
          before: { allowPrivateTargets: before.allowPrivateTargets },
          after: { allowPrivateTargets: after.allowPrivateTargets },
        });
        return after;
      });
      return settingsView(s);
    },
  };
}
export type WebhookService = ReturnType<typeof createWebhookService>;
