// What a subscriber may see of an event's payload: the same view, through the same response
// schema, that the REST resource gives the same caller (issue 8 item 10). Payloads are stored as
// the writer's full view; this runs once per event and audience, never once per socket.
import {
  Application,
  ApplicationConfig,
  AutoscaleDecisionEvent,
  ConfigUpdated,
  Deployment,
  Environment,
  type EventName,
  Host,
  InstanceOomKilled,
  ReleaseCreated,
  WebhookDeliveryEvent,
} from '@qubot/api-contract';
import type { TSchema } from 'typebox';
import { Value } from 'typebox/value';
import { can } from '../lib/permissions.ts';
import type { Actor } from '../lib/request-context.ts';

/**
 * Who a payload is shaped for. Every reader of an application gets the same REST views; only
 * `settings.manage` (admins) sees an application's launcher, as the POST /apps answer shows it;
 * `webhooks.manage` (release managers) also gets the webhook delivery log.
 */
export type Audience = 'admin' | 'manager' | 'reader';
export const AUDIENCES: readonly Audience[] = ['admin', 'manager', 'reader'];

export function audienceOf(actor: Actor): Audience {
  if (can(actor, 'settings.manage')) return 'admin';
  return can(actor, 'webhooks.manage') ? 'manager' : 'reader';
}

type View = (payload: unknown, audience: Audience) => unknown;

/** Keeps only what `schema` (the REST response schema) declares, like Fastify's serializer. */
const through =
  (schema: TSchema): View =>
  (payload) =>
    Value.Clean(schema, structuredClone(payload));

/** The `Application` item of GET /apps, from the stored ApplicationConfig. */
function applicationItem(payload: unknown): unknown {
  const p = (payload ?? {}) as { environments?: unknown };
  const envs = Array.isArray(p.environments) ? p.environments : [];
  return Value.Clean(Application, {
    ...structuredClone(p),
    environments: envs.map((e) => (typeof e === 'string' ? e : (e as { name?: unknown }).name)),
  });
}

/**
 * Every event type a writer appends (the contract's `EVENT_DATA`), with its view. A type missing
 * here is sent to admins only, as stored (tests append their own).
 */
export const EVENT_VIEWS: Readonly<Record<EventName, View>> = {
  'application.created': (payload, audience) =>
    audience === 'admin' ? through(ApplicationConfig)(payload, audience) : applicationItem(payload),
  'environment.updated': through(Environment),
  'deployment.created': through(Deployment),
  'deployment.updated': through(Deployment),
  'release.created': through(ReleaseCreated),
  'config.updated': through(ConfigUpdated),
  'instance.oom_killed': through(InstanceOomKilled),
  'autoscale.decision': through(AutoscaleDecisionEvent),
  // The delivery log is for those who may read it (GET …/webhooks/:id/deliveries: release-manager).
  'webhook.delivery': (payload, audience) =>
    audience === 'reader' ? undefined : through(WebhookDeliveryEvent)(payload, audience),
  // The fleet is for admins (GET /hosts).
  'host.updated': (payload, audience) =>
    audience === 'admin' ? through(Host)(payload, audience) : undefined,
};

/**
 * The payload `audience` may see, or `undefined` when the type has no view (then the event is
 * withheld from non-admins rather than sent unfiltered; admins see the stored payload).
 */
export function viewFor(type: string, payload: unknown, audience: Audience): unknown {
  const view = (EVENT_VIEWS as Readonly<Record<string, View>>)[type];
  if (view) return view(payload, audience);
  return audience === 'admin' ? payload : undefined;
}
