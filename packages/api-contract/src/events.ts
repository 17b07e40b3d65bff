import Type from 'typebox';
import { ApplicationConfig } from './applications-admin.ts';
import { strict, Timestamp } from './common.ts';
import { Host } from './hosts.ts';
import { MetricsMessage } from './observe.ts';
import { Application, Deployment, Environment } from './resources.ts';
import { ScalingDecision } from './scaling.ts';
import { WebhookDelivery } from './webhooks.ts';

/**
 * The live event stream at `/api/v1/events` (DESIGN §5, docs/events.md).
 *
 * Topics name what a client watches, by id or by the names people type:
 * `application:<id>` or `application:<name>`, `environment:<id>` or
 * `environment:<app>/<env>`, `deployment:<id>`. Names are resolved to ids
 * when the subscription is made. `hosts` (admins) watches the fleet: `host.updated`.
 */
export const TOPIC_KINDS = ['application', 'environment', 'deployment', 'hosts'] as const;
export type TopicKind = (typeof TOPIC_KINDS)[number];
export const MAX_TOPICS = 100;

/** A resume point: every event of the subscription with a seq ≤ it has been delivered. */
export const Seq = Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER });

// ---------------------------------------------------------------------------------------------
// Client → server

export const SubscribeMessage = Type.Object(
  {
    type: Type.Literal('subscribe'),
    topics: Type.Array(Type.String({ minLength: 1, maxLength: 200 }), { minItems: 1, maxItems: MAX_TOPICS }),
    /** Replay stored events with seq > since first; omitted: only events from now on. */
    since: Type.Optional(Seq),
  },
  strict,
);
export type SubscribeMessage = Type.Static<typeof SubscribeMessage>;

/** Asks for a heartbeat now (a client-side liveness probe). */
export const PingMessage = Type.Object({ type: Type.Literal('ping') }, strict);
/** Accepted and ignored, for clients that answer heartbeats. */
export const PongMessage = Type.Object({ type: Type.Literal('pong') }, strict);

export const ClientMessage = Type.Union([SubscribeMessage, PingMessage, PongMessage]);
export type ClientMessage = Type.Static<typeof ClientMessage>;

// ---------------------------------------------------------------------------------------------
// Server → client

/** `release.created`: the release registered (GET …/releases has the full view). */
export const ReleaseCreated = Type.Object({
  application: Type.String(),
  version: Type.String(),
  artifact: Type.String(),
});
export type ReleaseCreated = Type.Static<typeof ReleaseCreated>;

/** `config.updated`: key names and the version, never values (GET …/config masks secrets). */
export const ConfigUpdated = Type.Object({
  application: Type.String(),
  environment: Type.String(),
  version: Type.Integer(),
  createdBy: Type.String(),
  added: Type.Array(Type.String()),
  removed: Type.Array(Type.String()),
  changed: Type.Array(Type.String()),
});
export type ConfigUpdated = Type.Static<typeof ConfigUpdated>;

/** `autoscale.decision`: one decision of the autoscaler (docs/scaling.md), with where it was made. */
export const AutoscaleDecisionEvent = Type.Intersect([
  Type.Object({ application: Type.String(), environment: Type.String() }),
  ScalingDecision,
]);
export type AutoscaleDecisionEvent = Type.Static<typeof AutoscaleDecisionEvent>;

/**
 * `instance.oom_killed`: an instance was killed by its memory limit (its supervisor starts it
 * again), with the limit in force and the peak usage of the run that was killed.
 */
export const InstanceOomKilled = Type.Object({
  application: Type.String(),
  environment: Type.String(),
  instanceId: Type.String(),
  pool: Type.String(),
  version: Type.String(),
  oomKills: Type.Integer({ description: "the instance's OOM kills so far" }),
  limitBytes: Type.Union([Type.Integer(), Type.Null()]),
  peakBytes: Type.Union([Type.Integer(), Type.Null()]),
  at: Timestamp,
});
export type InstanceOomKilled = Type.Static<typeof InstanceOomKilled>;

/**
 * `webhook.delivery`: one attempt of an outgoing webhook's delivery finished (delivered, failed,
 * or pending its retry) — the delivery log's row as GET …/deliveries answers it, with the
 * application's name. Sent to release managers and admins only (who may read delivery logs).
 */
export const WebhookDeliveryEvent = Type.Object(
  { ...WebhookDelivery.properties, application: Type.String() },
  strict,
);
export type WebhookDeliveryEvent = Type.Static<typeof WebhookDeliveryEvent>;

/**
 * Every event the server appends, by name, with the payload subscribers get (the REST view of the
 * resource, through the same response schema). A new event type is added here first; the server
 * sends no type that is missing here (apps/api/src/events/event-views.ts).
 */
export const EVENT_DATA = {
  /** Admins get the application with its launcher (POST /apps' answer), others the GET /apps item. */
  'application.created': Type.Union([ApplicationConfig, Application]),
  'environment.updated': Environment,
  'deployment.created': Deployment,
  'deployment.updated': Deployment,
  'release.created': ReleaseCreated,
  'config.updated': ConfigUpdated,
  'instance.oom_killed': InstanceOomKilled,
  'autoscale.decision': AutoscaleDecisionEvent,
  'webhook.delivery': WebhookDeliveryEvent,
  /** A host's state or heartbeat figures changed: GET /hosts' item. Admins only (topic `hosts`). */
  'host.updated': Host,
} as const;
export type EventName = keyof typeof EVENT_DATA;
export const EVENT_NAMES = Object.keys(EVENT_DATA) as EventName[];
export type EventData<N extends EventName> = Type.Static<(typeof EVENT_DATA)[N]>;

const eventMessage = <N extends EventName>(name: N) =>
  Type.Object({
    type: Type.Literal('event'),
    seq: Seq,
    /**
     * The seq of the previous event this subscription delivered (or its starting point). A client
     * whose last seq is lower than `prev` has missed something and should resubscribe.
     */
    prev: Seq,
    event: Type.Literal(name),
    /** Every topic the event belongs to, by id and by name. */
    topics: Type.Array(Type.String()),
    data: EVENT_DATA[name],
    at: Timestamp,
  });

/** A stored event, discriminated by `event`; `data` is the full resource view. */
export const EventMessage = Type.Union([
  eventMessage('application.created'),
  eventMessage('environment.updated'),
  eventMessage('deployment.created'),
  eventMessage('deployment.updated'),
  eventMessage('release.created'),
  eventMessage('config.updated'),
  eventMessage('instance.oom_killed'),
  eventMessage('webhook.delivery'),
  eventMessage('host.updated'),
]);
export type EventMessage = Type.Static<typeof EventMessage>;
/** The part of an event message that names it and carries its view: `{ event, data }`. */
export type ServerEvent = { [N in EventName]: { event: N; data: EventData<N> } }[EventName];

export const SubscribedMessage = Type.Object({
  type: Type.Literal('subscribed'),
  /** The topics in canonical id form, in the order they were sent. */
  topics: Type.Array(Type.String()),
  /** Where the replay starts (the `since` sent), or null when only live events follow. */
  since: Type.Union([Seq, Type.Null()]),
  /** The stream position: events up to it are replayed, events after it are live. */
  lastSeq: Seq,
});
export type SubscribedMessage = Type.Static<typeof SubscribedMessage>;

export const HeartbeatMessage = Type.Object({
  type: Type.Literal('heartbeat'),
  /** Resume point: every event of the subscription up to this seq has been sent. */
  seq: Seq,
});
export type HeartbeatMessage = Type.Static<typeof HeartbeatMessage>;

export const EVENT_STREAM_ERRORS = [
  'malformed_message',
  'unknown_topic',
  'forbidden',
  'since_in_future',
  'unavailable',
  /** Too many subscribe messages in a minute; the message was ignored. */
  'rate_limited',
] as const;
export type EventStreamErrorCode = (typeof EVENT_STREAM_ERRORS)[number];

export const EventStreamError = Type.Object({
  type: Type.Literal('error'),
  code: Type.Union(EVENT_STREAM_ERRORS.map((c) => Type.Literal(c))),
  message: Type.String(),
  /** The part of the client's message at fault, e.g. `topics[1]` or `since`. */
  field: Type.Optional(Type.String()),
});
export type EventStreamError = Type.Static<typeof EventStreamError>;

export const ServerMessage = Type.Union([
  EventMessage,
  SubscribedMessage,
  HeartbeatMessage,
  EventStreamError,
  MetricsMessage,
]);
export type ServerMessage = Type.Static<typeof ServerMessage>;

/** Close codes beyond the standard ones; the close reason says what to do next. */
export const EventStreamClose = {
  /** Server shutting down: reconnect (to another replica) with since. */
  GoingAway: 1001,
  /** The client did not read fast enough; its buffer overflowed. Reconnect with since. */
  TooSlow: 4008,
  /** No valid session or token on the upgrade request. */
  Unauthenticated: 4401,
  /** No pong/heartbeat answer: the peer is considered dead. */
  Timeout: 4000,
  /** The client sent messages faster than they are handled. */
  PolicyViolation: 1008,
  /** The session or token was revoked, signed out, or its user disabled or given a new password. */
  Revoked: 4401,
  /** The caller's role or token scope changed and it may no longer read a topic it watched. */
  PermissionsChanged: 4403,
  /** The user (or token) already has the maximum number of event stream sockets open. */
  TooManyConnections: 4429,
} as const;
