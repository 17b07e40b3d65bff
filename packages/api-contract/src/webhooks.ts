import Type from 'typebox';
import { Cursor, Limit, Name, NullableTimestamp, strict, Timestamp } from './common.ts';
import type { EventName } from './events.ts';

/**
 * Outgoing webhooks of an application (docs/webhooks.md). The event types are the stored events
 * of docs/events.md, plus `deployment.approval_requested`: a `deployment.updated` of a deployment
 * that waits for approval, whose body carries the link to the approval screen.
 */
export const WebhookEventName = Type.Union([
  Type.Literal('application.created'),
  Type.Literal('environment.updated'),
  Type.Literal('deployment.created'),
  Type.Literal('deployment.updated'),
  Type.Literal('deployment.approval_requested'),
  Type.Literal('release.created'),
  Type.Literal('config.updated'),
  Type.Literal('instance.oom_killed'),
  Type.Literal('autoscale.decision'),
]);
export type WebhookEvent = Type.Static<typeof WebhookEventName>;
/**
 * Every event name of the stream (EventName) is a webhook event type too (webhooks.test.ts
 * checks), but `webhook.delivery` (a webhook on its own deliveries would feed itself) and
 * `host.updated` (hosts belong to no application).
 */
export const WEBHOOK_EVENTS: readonly WebhookEvent[] = [
  'deployment.approval_requested',
  'deployment.created',
  'deployment.updated',
  'environment.updated',
  'release.created',
  'config.updated',
  'application.created',
  'instance.oom_killed',
  'autoscale.decision',
];
// Host events belong to no application: no webhook (of an application) is sent them.
const _everyEvent: readonly WebhookEvent[] = [] as Exclude<EventName, 'webhook.delivery' | 'host.updated'>[];

/** json: the event with the resource view; slack: a Slack incoming-webhook message (`text`). */
export const WebhookFormat = Type.Union([Type.Literal('json'), Type.Literal('slack')]);
export type WebhookFormat = Type.Static<typeof WebhookFormat>;

export const WebhookUrl = Type.String({
  minLength: 1,
  maxLength: 2000,
  description:
    'http(s) URL. Hosts that resolve to loopback, private, link-local or other non-public addresses are refused (400 naming `url`) unless an admin allows them (PUT /settings/webhooks); checked again at each delivery',
});

export const WebhookParams = Type.Object({ app: Name, id: Type.String({ format: 'uuid' }) }, strict);
export type WebhookParams = Type.Static<typeof WebhookParams>;
export const WebhookDeliveryParams = Type.Object(
  { app: Name, id: Type.String({ format: 'uuid' }), delivery: Type.String({ format: 'uuid' }) },
  strict,
);
export type WebhookDeliveryParams = Type.Static<typeof WebhookDeliveryParams>;

export const Webhook = Type.Object(
  {
    id: Type.String(),
    application: Type.String(),
    name: Type.String(),
    url: Type.String(),
    events: Type.Array(WebhookEventName),
    format: WebhookFormat,
    enabled: Type.Boolean(),
    createdBy: Type.String(),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  },
  strict,
);
export type Webhook = Type.Static<typeof Webhook>;

/** The creation answer: the signing secret, shown this once (stored encrypted, never shown again). */
export const CreatedWebhook = Type.Object({ ...Webhook.properties, secret: Type.String() }, strict);
export type CreatedWebhook = Type.Static<typeof CreatedWebhook>;

const WebhookName = Type.String({ minLength: 1, maxLength: 100 });
const Events = Type.Array(WebhookEventName, {
  minItems: 1,
  maxItems: WEBHOOK_EVENTS.length,
  uniqueItems: true,
});

export const CreateWebhookBody = Type.Object(
  {
    name: WebhookName,
    url: WebhookUrl,
    events: Events,
    format: Type.Optional(WebhookFormat),
    enabled: Type.Optional(Type.Boolean()),
  },
  strict,
);
export type CreateWebhookBody = Type.Static<typeof CreateWebhookBody>;

export const UpdateWebhookBody = Type.Object(
  {
    name: Type.Optional(WebhookName),
    url: Type.Optional(WebhookUrl),
    events: Type.Optional(Events),
    format: Type.Optional(WebhookFormat),
    enabled: Type.Optional(Type.Boolean()),
  },
  { ...strict, minProperties: 1 },
);
export type UpdateWebhookBody = Type.Static<typeof UpdateWebhookBody>;

export const WebhookDeliveryStatus = Type.Union([
  Type.Literal('pending'),
  Type.Literal('delivering'),
  Type.Literal('delivered'),
  Type.Literal('failed'),
]);
export type WebhookDeliveryStatus = Type.Static<typeof WebhookDeliveryStatus>;

export const WebhookDelivery = Type.Object(
  {
    id: Type.String(),
    webhookId: Type.String(),
    /** The event's global seq (docs/events.md). */
    eventSeq: Type.Integer(),
    event: Type.String(),
    status: WebhookDeliveryStatus,
    attempts: Type.Integer(),
    /** When the next attempt is due (pending), or when the running attempt's lease ends (delivering). */
    nextAttemptAt: NullableTimestamp,
    /** The last attempt's HTTP status, time to the answer, and the answer's first 500 characters. */
    statusCode: Type.Union([Type.Integer(), Type.Null()]),
    latencyMs: Type.Union([Type.Integer(), Type.Null()]),
    responseExcerpt: Type.Union([Type.String(), Type.Null()]),
    error: Type.Union([Type.String(), Type.Null()]),
    /** Set on a redelivery: the delivery it repeats, and who asked. */
    redeliveryOf: Type.Union([Type.String(), Type.Null()]),
    requestedBy: Type.Union([Type.String(), Type.Null()]),
    createdAt: Timestamp,
    finishedAt: NullableTimestamp,
  },
  strict,
);
export type WebhookDelivery = Type.Static<typeof WebhookDelivery>;

export const WebhookDeliveryQuery = Type.Object(
  { cursor: Type.Optional(Cursor), limit: Type.Optional(Limit) },
  strict,
);
export type WebhookDeliveryQuery = Type.Static<typeof WebhookDeliveryQuery>;

export const WebhookSettings = Type.Object(
  {
    /** Endpoints on loopback/private/link-local addresses are allowed (admin's choice, audited). */
    allowPrivateTargets: Type.Boolean(),
    updatedBy: Type.Union([Type.String(), Type.Null()]),
    updatedAt: Timestamp,
  },
  strict,
);
export type WebhookSettings = Type.Static<typeof WebhookSettings>;

export const UpdateWebhookSettingsBody = Type.Object(
  { allowPrivateTargets: Type.Boolean(), reason: Type.Optional(Type.String({ maxLength: 1000 })) },
  strict,
);
export type UpdateWebhookSettingsBody = Type.Static<typeof UpdateWebhookSettingsBody>;
