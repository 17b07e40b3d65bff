import { type Deployment, type EventName, EventStreamClose, type List } from '@qubot/api-contract';
import { QueryClient } from '@tanstack/react-query';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { deploymentFixture } from '../../../api/src/views/view-fixtures.ts';
import { authKeys } from '../hooks/api/auth/queries';
import { deploymentKeys } from '../hooks/api/deployments/queries';
import { createEventStream, type EventStream } from './events';
import type { LiveStatus } from './live-status';

/** The browser WebSocket surface the stream uses, driven by the test. */
class FakeSocket {
  static readonly CONNECTING = 0;
  static readonly OPEN = 1;
  static readonly CLOSED = 3;
  static instances: FakeSocket[] = [];
  readonly OPEN = 1;
  readyState = FakeSocket.CONNECTING;
  sent: string[] = [];
  onopen: (() => void) | null = null;
  onmessage: ((m: { data: unknown }) => void) | null = null;
  onclose: ((e: { code: number; reason: string }) => void) | null = null;
  onerror: (() => void) | null = null;
  constructor(readonly url: string) {
    FakeSocket.instances.push(this);
  }
  send(data: string) {
    this.sent.push(data);
  }
  close(code = 1005, reason = '') {
    if (this.readyState === FakeSocket.CLOSED) return;
    this.readyState = FakeSocket.CLOSED;
    this.onclose?.({ code, reason });
  }
  // test helpers
  open() {
    this.readyState = FakeSocket.OPEN;
    this.onopen?.();
  }
  receive(msg: unknown) {
    this.onmessage?.({ data: JSON.stringify(msg) });
  }
  subscriptions() {
    return this.sent.map((s) => JSON.parse(s) as { type: string; topics: string[]; since?: number });
  }
}

/** A deployment view as the server sends it (views.ts over a real core state), in `status`. */
const deployment = (id: string, status: Deployment['status']): Deployment => ({
  ...deploymentFixture({ id, input: { strategy: 'canary', version: '1.1.0', fromVersion: '1.0.0' } }),
  status,
});

/** A server `event` message; `prev` defaults to "the one before it" so no gap is seen. */
const ev = (seq: number, event: EventName, data: unknown, prev = seq - 1) => ({
  type: 'event',
  seq,
  prev,
  event,
  topics: ['application:a1', 'application:qubot-one'],
  data,
  at: '2025-01-01T00:00:00Z',
});

let queryClient: QueryClient;
let stream: EventStream;
let statuses: LiveStatus[];

beforeEach(() => {
  vi.useFakeTimers();
  FakeSocket.instances = [];
  statuses = [];
  queryClient = new QueryClient();
  stream = createEventStream({
    queryClient,
    url: 'ws://127.0.0.1/api/v1/events',
    onStatus: (s) => statuses.push(s),
    flushMs: 50,
    random: () => 1,
    WebSocketImpl: FakeSocket as unknown as typeof WebSocket,
  });
});

afterEach(() => {
  stream.stop();
  queryClient.clear();
  vi.useRealTimers();
});

describe('createEventStream', () => {
  it('subscribes to its topics once open and reports the status', () => {
    stream.addTopics(['application:a1']);
    stream.start();
    const ws = FakeSocket.instances[0]!;
    expect(ws.url).toBe('ws://127.0.0.1/api/v1/events');
    ws.open();
    expect(ws.subscriptions()).toEqual([{ type: 'subscribe', topics: ['application:a1'] }]);
    expect(statuses).toEqual(['connecting', 'open']);

    stream.addTopics(['deployment:d1']);
    expect(ws.subscriptions().at(-1)).toEqual({
      type: 'subscribe',
      topics: ['application:a1', 'deployment:d1'],
    });
  });

  it('applies a batch of events to the cache together, ignoring duplicates', () => {
    queryClient.setQueryData<{ pages: List<Deployment>[]; pageParams: unknown[] }>(deploymentKeys.list({}), {
      pages: [{ items: [deployment('d1', 'running'), deployment('d2', 'succeeded')], nextCursor: null }],
      pageParams: [null],
    });
    stream.addTopics(['application:a1']);
    stream.start();
    const ws = FakeSocket.instances[0]!;
    ws.open();

    ws.receive(ev(1, 'deployment.updated', deployment('d1', 'paused')));
    ws.receive(ev(2, 'deployment.updated', deployment('d1', 'running')));
    ws.receive(ev(1, 'deployment.updated', deployment('d1', 'failed')));
    // Nothing is applied until the batch window closes.
    expect(queryClient.getQueryData(deploymentKeys.detail('d1'))).toBeUndefined();

    vi.advanceTimersByTime(50);
    expect(queryClient.getQueryData<Deployment>(deploymentKeys.detail('d1'))?.status).toBe('running');
    const list = queryClient.getQueryData<{ pages: List<Deployment>[] }>(deploymentKeys.list({}));
    expect(list?.pages[0]?.items.map((d) => d.status)).toEqual(['running', 'succeeded']);
    expect(stream.lastSeq()).toBe(2);
  });

  it('reconnects with back-off and resumes from the last seq', () => {
    stream.addTopics(['application:a1']);
    stream.start();
    const first = FakeSocket.instances[0]!;
    first.open();
    first.receive(ev(41, 'release.created', {}));
    vi.advanceTimersByTime(50);
    first.close();
    expect(statuses.at(-1)).toBe('closed');

    vi.advanceTimersByTime(499);
    expect(FakeSocket.instances).toHaveLength(1);
    vi.advanceTimersByTime(1);
    const second = FakeSocket.instances[1]!;
    second.open();
    expect(second.subscriptions()).toEqual([{ type: 'subscribe', topics: ['application:a1'], since: 41 }]);

    // Dropped again before proving useful: the next attempt waits longer.
    second.close();
    vi.advanceTimersByTime(999);
    expect(FakeSocket.instances).toHaveLength(2);
    vi.advanceTimersByTime(1);
    expect(FakeSocket.instances).toHaveLength(3);
  });

  it('closed as revoked (4401): no reconnect, the visitor is marked signed out for the sign-in page', () => {
    queryClient.setQueryData(authKeys.me(), { username: 'admin' });
    stream.addTopics(['application:a1']);
    stream.start();
    const ws = FakeSocket.instances[0]!;
    ws.open();
    ws.close(EventStreamClose.Revoked, 'credentials revoked: sign in again');
    vi.advanceTimersByTime(120_000);
    expect(FakeSocket.instances).toHaveLength(1);
    expect(statuses.at(-1)).toBe('closed');
    // null is "signed out": RequireSignIn navigates to signInPath(location).
    expect(queryClient.getQueryData(authKeys.me())).toBeNull();

    // Signed in again, the layout starts the stream anew.
    stream.start();
    expect(FakeSocket.instances).toHaveLength(2);
  });

  it('any other close code reconnects', () => {
    stream.start();
    FakeSocket.instances[0]!.open();
    FakeSocket.instances[0]!.close(EventStreamClose.TooSlow, 'too slow');
    vi.advanceTimersByTime(120_000);
    expect(FakeSocket.instances.length).toBeGreaterThan(1);
  });

  it('applies nothing and does not reconnect once stopped', () => {
    stream.addTopics(['application:a1']);
    stream.start();
    const ws = FakeSocket.instances[0]!;
    ws.open();
    ws.receive(ev(1, 'deployment.updated', deployment('d1', 'paused')));
    stream.stop();
    vi.advanceTimersByTime(60_000);
    expect(queryClient.getQueryData(deploymentKeys.detail('d1'))).toBeUndefined();
    expect(FakeSocket.instances).toHaveLength(1);
    expect(statuses.at(-1)).toBe('idle');
  });

  it('resubscribes from its last seq when an event shows a gap, and ignores stale events meanwhile', () => {
    stream.addTopics(['application:a1']);
    stream.start();
    const ws = FakeSocket.instances[0]!;
    ws.open();
    ws.receive({ type: 'subscribed', topics: ['application:a1'], since: null, lastSeq: 10 });
    ws.receive(ev(11, 'release.created', {}, 10));
    ws.receive(ev(15, 'release.created', {}, 13));
    expect(ws.subscriptions().at(-1)).toEqual({ type: 'subscribe', topics: ['application:a1'], since: 11 });
    ws.receive(ev(16, 'release.created', {}, 15));
    expect(stream.lastSeq()).toBe(11);

    ws.receive({ type: 'subscribed', topics: ['application:a1'], since: 11, lastSeq: 16 });
    ws.receive(ev(13, 'release.created', {}, 11));
    ws.receive(ev(15, 'release.created', {}, 13));
    ws.receive(ev(16, 'release.created', {}, 15));
    expect(stream.lastSeq()).toBe(16);
    expect(ws.subscriptions()).toHaveLength(2);
  });

  it('advances its resume point on heartbeats', () => {
    stream.addTopics(['application:a1']);
    stream.start();
    const ws = FakeSocket.instances[0]!;
    ws.open();
    ws.receive({ type: 'subscribed', topics: ['application:a1'], since: null, lastSeq: 3 });
    ws.receive({ type: 'heartbeat', seq: 90 });
    expect(stream.lastSeq()).toBe(90);
  });

  it('closes a connection whose heartbeats stop', () => {
    stream.addTopics(['application:a1']);
    stream.start();
    const ws = FakeSocket.instances[0]!;
    ws.open();
    ws.receive({ type: 'heartbeat', seq: 0 });
    vi.advanceTimersByTime(60_000);
    expect(ws.readyState).toBe(FakeSocket.CLOSED);
    expect(statuses.at(-1)).toBe('closed');
  });
});
