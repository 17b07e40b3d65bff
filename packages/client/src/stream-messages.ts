import { EVENT_NAMES, type EventName, type MetricsMessage, type ServerEvent } from '@qubot/api-contract';

/**
 * Reading the event stream's server messages (docs/events.md; the wire format is
 * `@qubot/api-contract`'s events.ts) and writing the subscription. Anything unrecognised is
 * ignored rather than fatal.
 */

type Rec = Record<string, unknown>;
const isRec = (v: unknown): v is Rec => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);
const seqOf = (v: unknown): number | null =>
  typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? v : null;

/**
 * A stored event as the contract types it (`EventMessage`, discriminated by `event`), or
 * `event: null` for a type this client does not know (a newer server): it still advances the
 * resume point, and carries nothing.
 */
export type LiveEvent = {
  seq: number;
  /** Seq of the event the server sent before this one on this subscription (gap detection). */
  prev: number | null;
  /** The event's topics by id and by name: `application:qubot-one`, `environment:qubot-one/staging`, … */
  topics: string[];
} & (ServerEvent | { event: null; data: null });

const isEventName = (v: unknown): v is EventName => EVENT_NAMES.includes(v as EventName);

export type StreamMessage =
  | { kind: 'event'; event: LiveEvent }
  | { kind: 'heartbeat'; seq: number | null }
  | { kind: 'subscribed'; since: number | null; lastSeq: number | null }
  | { kind: 'error'; code: string; message: string; field?: string }
  /** A router sample (ephemeral: no seq, never replayed). */
  | { kind: 'metrics'; message: MetricsMessage }
  | { kind: 'other' };

export function parseStreamMessage(raw: string): StreamMessage {
  let msg: unknown;
  try {
    msg = JSON.parse(raw);
  } catch {
    return { kind: 'other' };
  }
  if (!isRec(msg)) return { kind: 'other' };
  switch (msg.type) {
    case 'event': {
      const seq = seqOf(msg.seq);
      if (seq === null || str(msg.event) === null) return { kind: 'other' };
      const topics = Array.isArray(msg.topics)
        ? msg.topics.filter((t): t is string => typeof t === 'string')
        : [];
      const meta = { seq, prev: seqOf(msg.prev), topics };
      // The server sends each event through the contract's schema for its name (event-views.ts).
      const event: LiveEvent = isEventName(msg.event)
        ? ({ ...meta, event: msg.event, data: msg.data } as LiveEvent)
        : { ...meta, event: null, data: null };
      return { kind: 'event', event };
    }
    case 'heartbeat':
      return { kind: 'heartbeat', seq: seqOf(msg.seq) };
    case 'subscribed':
      return { kind: 'subscribed', since: seqOf(msg.since), lastSeq: seqOf(msg.lastSeq) };
    case 'metrics':
      return isRec(msg.sample) && Array.isArray(msg.sample.pools) && typeof msg.environment === 'string'
        ? { kind: 'metrics', message: msg as unknown as MetricsMessage }
        : { kind: 'other' };
    case 'error': {
      const field = str(msg.field);
      return {
        kind: 'error',
        code: str(msg.code) ?? 'error',
        message: str(msg.message) ?? 'Event stream error',
        ...(field ? { field } : {}),
      };
    }
    default:
      return { kind: 'other' };
  }
}

/** The server skipped something this client never saw: it must resubscribe from its last seq. */
export function isGap(lastSeq: number | null, event: Pick<LiveEvent, 'prev'>): boolean {
  return lastSeq !== null && event.prev !== null && event.prev > lastSeq;
}

export function subscribeMessage(topics: Iterable<string>, since: number | null): string {
  const msg: { type: 'subscribe'; topics: string[]; since?: number } = {
    type: 'subscribe',
    topics: [...new Set(topics)].sort(),
  };
  if (since !== null) msg.since = since;
  return JSON.stringify(msg);
}

/** `http://host:8080/base` → `ws://host:8080/base/api/v1/events` (`https` → `wss`). */
export function eventsUrl(base: string | { protocol: string; host: string }): string {
  if (typeof base !== 'string')
    return `${base.protocol === 'https:' ? 'wss' : 'ws'}://${base.host}/api/v1/events`;
  const url = new URL(`${base.replace(/\/$/, '')}/api/v1/events`);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  return url.toString();
}
