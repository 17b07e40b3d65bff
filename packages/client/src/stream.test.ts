import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { buildTestApp } from '../../../test/app.ts';
import { createHttpClient } from './http.ts';
import {
  type CloseInfo,
  createEventStream,
  isCredentialClose,
  type NodeWebSocketClass,
  nodeConnector,
  type WebSocketLike,
} from './stream.ts';
import { eventsUrl, type LiveEvent } from './stream-messages.ts';

// The stream against the real API's websocket (buildTestApp, listening on a port).
let t: Awaited<ReturnType<typeof buildTestApp>>;
let base: string;

beforeAll(async () => {
  t = await buildTestApp();
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  base = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await t?.close();
});

/** A promise and the function that resolves it, for waiting on a callback. */
function signal<T = void>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

describe('[CLIENT] event stream against the API', () => {
  it('resumes with since after a cut, so an event sent while it was away still arrives once', async () => {
    const headers = await t.as('admin');
    const http = createHttpClient({ baseUrl: base, headers });
    const sockets: WebSocket[] = [];
    const sent: unknown[] = [];
    const events: LiveEvent[] = [];
    const waiters = new Map<string, (e: LiveEvent) => void>();
    const subscribed = signal();
    const stream = createEventStream({
      url: eventsUrl(base),
      connect: (url) => {
        const ws = new WebSocket(url, { headers: { cookie: headers.cookie } });
        const send = ws.send.bind(ws);
        ws.send = ((data: string) => {
          sent.push(JSON.parse(data));
          send(data);
        }) as typeof ws.send;
        sockets.push(ws);
        return ws as unknown as WebSocketLike;
      },
      backoff: { baseMs: 20, maxMs: 100 },
      onSubscribed: () => subscribed.resolve(),
      onEvent: (e) => {
        events.push(e);
        const version = (e.data as { version?: string } | null)?.version;
        if (version) waiters.get(version)?.(e);
      },
      // While the socket is down a release is registered: the replay must bring it.
      beforeReconnect: async () => {
        await http.post('/apps/qubot-one/releases', { version: '7.0.2', artifact: 'qubot-one/healthy' });
        return false;
      },
    });
    const eventFor = (version: string) => {
      const s = signal<LiveEvent>();
      waiters.set(version, s.resolve);
      return s.promise;
    };
    stream.addTopics(['application:qubot-one']);
    stream.start();
    try {
      await subscribed.promise;
      const first = eventFor('7.0.1');
      await http.post('/apps/qubot-one/releases', { version: '7.0.1', artifact: 'qubot-one/healthy' });
      const seen = await first;
      expect(stream.lastSeq()).toBe(seen.seq);

      const second = eventFor('7.0.2');
      sockets[0]?.terminate();
      const replayed = await second;
      expect(replayed.seq).toBeGreaterThan(seen.seq);
      expect(sockets).toHaveLength(2);
      expect(sent).toEqual([
        { type: 'subscribe', topics: ['application:qubot-one'] },
        { type: 'subscribe', topics: ['application:qubot-one'], since: seen.seq },
      ]);
      const seqs = events.map((e) => e.seq);
      expect(new Set(seqs).size).toBe(seqs.length);
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    } finally {
      stream.stop();
    }
  });

  it('stops instead of reconnecting when the server refuses the credentials', async () => {
    const closed = signal<CloseInfo>();
    const statuses: string[] = [];
    const stream = createEventStream({
      url: eventsUrl(base),
      connect: nodeConnector(WebSocket as unknown as NodeWebSocketClass),
      onEvent: () => {},
      onStatus: (s) => statuses.push(s),
      onClose: (info) => {
        closed.resolve(info);
        return isCredentialClose(info.code) ? 'stop' : undefined;
      },
    });
    stream.addTopics(['application:qubot-one']);
    stream.start();
    const info = await closed.promise;
    expect(info).toEqual({ code: 4401, reason: 'HTTP 401 on upgrade' });
    expect(statuses).toEqual(['connecting', 'closed']);
  });
});
