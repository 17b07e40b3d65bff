import {
  type ClientMessage,
  EventStreamClose,
  type EventStreamErrorCode,
  type HeartbeatMessage,
  MAX_TOPICS,
  PingMessage,
  PongMessage,
  type SubscribedMessage,
  SubscribeMessage,
} from '@qubot/api-contract';
import { Ajv } from 'ajv';
import { type BusEvent, type EventBus, type EventFilter, frame } from './event-bus.ts';
import type { ResolvedTopic, TopicResolver } from './topics.ts';

/** The part of a `ws` WebSocket a session uses (a real socket, injectWS, or a test double). */
export interface SessionSocket {
  readonly readyState: number;
  readonly bufferedAmount: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  terminate(): void;
}

export interface SessionLimits {
  /** Bytes queued on the socket before a live event makes the client "too slow". */
  maxBufferedBytes: number;
  /** Live events held back while a replay runs, before the client is "too slow". */
  maxPendingEvents: number;
  /** After a close frame, how long a client that does not read gets before the TCP is cut. */
  closeGraceMs: number;
  /** How long a replay waits for a slow client to drain before giving up on it. */
  replayStallMs: number;
}

export const DEFAULT_LIMITS: SessionLimits = {
  maxBufferedBytes: 8 * 1024 * 1024,
  maxPendingEvents: 10_000,
  closeGraceMs: 5000,
  replayStallMs: 30_000,
};

export interface SessionDeps {
  socket: SessionSocket;
  bus: Pick<EventBus, 'subscribe' | 'lastSeq' | 'committedSeq' | 'readRange'> &
    Partial<Pick<EventBus, 'subscribeEphemeral'>>;
  resolve: TopicResolver;
  /** The single authorization call site: may this caller read this topic's application? */
  authorize(topic: ResolvedTopic): boolean;
  limits: SessionLimits;
  log?: { warn(obj: object, msg: string): void };
}

const OPEN = 1;
const ajv = new Ajv({ allErrors: false, strict: false, coerceTypes: false });
const SCHEMAS = {
  subscribe: ajv.compile(SubscribeMessage),
  ping: ajv.compile(PingMessage),
  pong: ajv.compile(PongMessage),
} as const;

interface Problem {
  code: EventStreamErrorCode;
  message: string;
  field?: string;
}

/** Why a client message is not acceptable, in the words the error message uses. */
export function checkClientMessage(
  value: unknown,
): { ok: true; msg: ClientMessage } | { ok: false; problem: Problem } {
  const bad = (message: string, field?: string) =>
    ({ ok: false, problem: { code: 'malformed_message', message, ...(field ? { field } : {}) } }) as const;
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return bad('a message is a JSON object');
  const type = (value as { type?: unknown }).type;
  if (type !== 'subscribe' && type !== 'ping' && type !== 'pong')
    return bad('type must be "subscribe", "ping" or "pong"', 'type');
  const validate = SCHEMAS[type];
  if (validate(value)) return { ok: true, msg: value as ClientMessage };
  const issue = validate.errors?.[0];
  const path = (issue?.instancePath ?? '')
    .split('/')
    .filter(Boolean)
    .map((p, i) => (/^\d+$/.test(p) ? `[${p}]` : i === 0 ? p : `.${p}`))
    .join('');
  const extra = issue?.params?.additionalProperty;
  if (typeof extra === 'string') return bad(`${extra} is not a known field`, extra);
  const missing = issue?.params?.missingProperty;
  if (typeof missing === 'string') return bad(`${missing} is required`, missing);
  if (path === 'topics' && issue?.keyword === 'maxItems') return bad(`at most ${MAX_TOPICS} topics`, path);
  return bad(`${path || 'message'} ${issue?.message ?? 'is invalid'}`, path || undefined);
}

/**
 * One websocket's subscription. The handover from replay to live is where gaps and
 * duplicates come from, so it is done like this: in one tick, note the bus position P and
 * start collecting live events (all > P); replay the table for since < seq ≤ P; then send the
 * collected events that are newer than the last one sent. Every event is in exactly one of
 * the two, and each goes out in seq order.
 */
export function createEventSession(deps: SessionDeps) {
  const { socket, bus, limits } = deps;
  let chain: Promise<void> = Promise.resolve();
  let closing = false;
  let generation = 0;
  let unsubscribe: (() => void) | null = null;
  let unsubscribeEphemeral: (() => void) | null = null;
  let subscribed = false;
  let replaying = false;
  let pending: BusEvent[] = [];
  /** Seq of the last event sent (or where the subscription starts): the next event's `prev`. */
  let position = 0;
  let alive = true;

  const send = (msg: object) => {
    if (!closing && socket.readyState === OPEN) socket.send(JSON.stringify(msg));
  };
  const sendError = (p: Problem) => send({ type: 'error', ...p });

  function close(code: number, reason: string): void {
    if (closing) return;
    closing = true;
    unsubscribe?.();
    unsubscribe = null;
    unsubscribeEphemeral?.();
    unsubscribeEphemeral = null;
    pending = [];
    if (socket.readyState === OPEN) socket.close(code, reason);
    // A client that does not read never sees the close frame; cut the connection.
    setTimeout(() => socket.terminate(), limits.closeGraceMs).unref();
  }

  function tooSlow(): void {
    deps.log?.warn({ position }, 'event stream client too slow; closing');
    close(EventStreamClose.TooSlow, `client too slow; reconnect with since=${position}`);
  }

  function sendEvent(ev: BusEvent): void {
    if (closing || ev.seq <= position) return;
    if (socket.bufferedAmount > limits.maxBufferedBytes) {
      tooSlow();
      return;
    }
    socket.send(frame(ev, position));
    position = ev.seq;
  }

  function onLive(ev: BusEvent): void {
    if (!replaying) {
      sendEvent(ev);
      return;
    }
    pending.push(ev);
    if (pending.length > limits.maxPendingEvents) tooSlow();
  }

  async function drained(): Promise<boolean> {
    const until = Date.now() + limits.replayStallMs;
    while (socket.bufferedAmount > limits.maxBufferedBytes / 2) {
      if (closing || Date.now() > until) return false;
      // Replay is pulled from the table, so it can wait for the client instead of dropping it.
      await new Promise((r) => setTimeout(r, 10));
    }
    return true;
  }

  async function subscribe(msg: Extract<ClientMessage, { type: 'subscribe' }>): Promise<void> {
    const resolved: ResolvedTopic[] = [];
    for (const [i, t] of msg.topics.entries()) {
      const r = await deps.resolve(t);
      if (!r.ok) return sendError({ code: 'unknown_topic', message: r.message, field: `topics[${i}]` });
      if (!deps.authorize(r.topic))
        return sendError({
          code: 'forbidden',
          message: `forbidden: you may not read application ${r.topic.application.name}`,
          field: `topics[${i}]`,
        });
      resolved.push(r.topic);
    }
    const since = msg.since ?? null;
    if (since !== null) {
      const newest = await bus.committedSeq();
      if (since > newest)
        return sendError({
          code: 'since_in_future',
          message: `since ${since} is ahead of the newest event (${newest}); resubscribe without since or with a seq you received`,
          field: 'since',
        });
    }
    if (closing) return;

    // The previous subscription (if any) ends here; a failed subscribe above left it running.
    unsubscribe?.();
    unsubscribeEphemeral?.();
    unsubscribeEphemeral = null;
    const gen = ++generation;
    const ids = (k: ResolvedTopic['kind']) => new Set(resolved.filter((t) => t.kind === k).map((t) => t.id));
    const filter: EventFilter = {
      applicationIds: ids('application'),
      environmentIds: ids('environment'),
      deploymentIds: ids('deployment'),
    };
    const upTo = bus.lastSeq();
    pending = [];
    replaying = true;
    unsubscribe = bus.subscribe(filter, onLive);
    subscribed = true;
    position = since ?? upTo;
    const ack: SubscribedMessage = {
      type: 'subscribed',
      topics: resolved.map((t) => t.topic),
      since,
      lastSeq: Math.max(upTo, position),
    };
    send(ack);
    unsubscribeEphemeral =
      bus.subscribeEphemeral?.(
        { environmentIds: filter.environmentIds, deploymentIds: filter.deploymentIds },
        (m) => {
          // A sample, not an event: a client that is behind simply misses it.
          if (!closing && socket.readyState === OPEN && socket.bufferedAmount <= limits.maxBufferedBytes / 2)
            socket.send(m.text);
        },
      ) ?? null;

    let after = position;
    while (after < upTo) {
      let page: BusEvent[];
      try {
        page = await bus.readRange(filter, after, upTo);
      } catch (err) {
        deps.log?.warn({ err }, 'event replay failed');
        sendError({ code: 'unavailable', message: 'the database is unavailable; reconnect shortly' });
        return close(1011, `replay failed; reconnect with since=${position}`);
      }
      if (gen !== generation || closing) return;
      for (const ev of page) sendEvent(ev);
      const last = page.at(-1);
      if (!last) break;
      after = last.seq;
      if (!(await drained())) return tooSlow();
      if (gen !== generation || closing) return;
    }
    replaying = false;
    const live = pending;
    pending = [];
    for (const ev of live) sendEvent(ev);
  }

  async function handle(raw: string): Promise<void> {
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch {
      return sendError({ code: 'malformed_message', message: 'the message is not valid JSON' });
    }
    const checked = checkClientMessage(value);
    if (!checked.ok) return sendError(checked.problem);
    const msg = checked.msg;
    if (msg.type === 'subscribe') {
      try {
        await subscribe(msg);
      } catch (err) {
        deps.log?.warn({ err }, 'event subscribe failed');
        sendError({ code: 'unavailable', message: 'the database is unavailable; try again shortly' });
      }
    } else if (msg.type === 'ping') {
      heartbeatMessage();
    }
  }

  function heartbeatMessage(): void {
    // While live, every matching event up to the bus position has been sent: a safe resume point.
    const seq = !subscribed ? bus.lastSeq() : replaying ? position : Math.max(position, bus.lastSeq());
    const msg: HeartbeatMessage = { type: 'heartbeat', seq };
    send(msg);
  }

  return {
    /** Messages are handled one after the other, in arrival order. */
    onMessage(raw: string): void {
      alive = true;
      chain = chain.then(() => handle(raw));
    },
    onPong(): void {
      alive = true;
    },
    /** Called on every heartbeat tick: false when the peer stayed silent since the last one. */
    heartbeat(): boolean {
      if (!alive) return false;
      alive = false;
      heartbeatMessage();
      return true;
    },
    close,
    /** The socket is gone: stop receiving events. */
    dispose(): void {
      closing = true;
      unsubscribe?.();
      unsubscribe = null;
      unsubscribeEphemeral?.();
      unsubscribeEphemeral = null;
      pending = [];
    },
    position: () => position,
  };
}
export type EventSession = ReturnType<typeof createEventSession>;
