// Test helper (not a test): a websocket client that records every server message and lets a
// test await the one it needs instead of sleeping.
import { type EventMessage, ServerMessage } from '@qubot/api-contract';
import { Value } from 'typebox/value';
import WebSocket from 'ws';

/**
 * Why a message breaks the contract (`ServerMessage`), or null. Events the tests append themselves
 * (`test.*`) carry test payloads and are not the server's.
 */
export function contractViolation(msg: unknown): string | null {
  const event = (msg as { event?: unknown }).event;
  if (typeof event === 'string' && event.startsWith('test.')) return null;
  if (Value.Check(ServerMessage, msg)) return null;
  const first = [...Value.Errors(ServerMessage, msg)].slice(0, 3);
  return `${JSON.stringify(msg).slice(0, 300)} does not match the contract: ${JSON.stringify(first)}`;
}

export interface Recorder {
  ws: WebSocket;
  messages: ServerMessage[];
  events(): EventMessage[];
  /** Resolves with the first message (already received or future) matching `pred`. */
  next<T extends ServerMessage = ServerMessage>(
    pred: (m: ServerMessage) => boolean,
    timeoutMs?: number,
  ): Promise<T>;
  /** Resolves once an event with seq ≥ `seq` arrived. */
  untilSeq(seq: number, timeoutMs?: number): Promise<void>;
  send(msg: unknown): void;
  closed: Promise<{ code: number; reason: string }>;
}

export function record(ws: WebSocket): Recorder {
  const messages: ServerMessage[] = [];
  const waiters = new Set<{
    pred: (m: ServerMessage) => boolean;
    resolve: (m: ServerMessage) => void;
    reject: (e: Error) => void;
  }>();
  // A message outside the contract fails every wait of the test, from then on.
  let broken: Error | null = null;
  ws.on('message', (data) => {
    const msg = JSON.parse(data.toString()) as ServerMessage;
    const violation = contractViolation(msg);
    if (violation && !broken) {
      broken = new Error(violation);
      for (const w of waiters) w.reject(broken);
      waiters.clear();
    }
    messages.push(msg);
    for (const w of waiters) {
      if (w.pred(msg)) {
        waiters.delete(w);
        w.resolve(msg);
      }
    }
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) => {
    ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() }));
  });
  const next = <T extends ServerMessage>(pred: (m: ServerMessage) => boolean, timeoutMs = 15_000) => {
    if (broken) return Promise.reject(broken);
    const seen = messages.find(pred);
    if (seen) return Promise.resolve(seen as T);
    return new Promise<T>((resolve, reject) => {
      const w = {
        pred,
        resolve: (m: ServerMessage) => {
          clearTimeout(timer);
          resolve(m as T);
        },
        reject: (e: Error) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      const timer = setTimeout(() => {
        waiters.delete(w);
        reject(
          new Error(`no matching message within ${timeoutMs} ms; last: ${JSON.stringify(messages.at(-1))}`),
        );
      }, timeoutMs);
      waiters.add(w);
    });
  };
  return {
    ws,
    messages,
    events: () => messages.filter((m): m is EventMessage => m.type === 'event'),
    next,
    untilSeq: async (seq, timeoutMs) => {
      await next((m) => m.type === 'event' && m.seq >= seq, timeoutMs);
    },
    send: (msg) => ws.send(typeof msg === 'string' ? msg : JSON.stringify(msg)),
    closed,
  };
}

/** Opens a real socket and waits until it is connected. */
export async function connect(
  url: string,
  headers: Record<string, string>,
  opts: WebSocket.ClientOptions = {},
) {
  const ws = new WebSocket(url, { headers, ...opts });
  const rec = record(ws);
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return rec;
}

/** Each event's `prev` is the seq of the one before it (or `start` for the first). */
export function expectChained(events: EventMessage[], start: number): boolean {
  let prev = start;
  for (const e of events) {
    if (e.prev !== prev || e.seq <= prev) return false;
    prev = e.seq;
  }
  return true;
}
