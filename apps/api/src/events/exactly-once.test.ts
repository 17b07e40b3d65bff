// Exactly-once under churn (issue 8 item 6): hundreds of subscribe / resume cycles against
// concurrent writers; every sequence a client received is compared with the stored one.
import type { EventMessage, SubscribedMessage } from '@qubot/api-contract';
import { appendEvent, createDatabase, type Database } from '@qubot/db';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp } from '../../../../test/app.ts';
import { connect, type Recorder } from './ws-test-client.ts';

let t: Awaited<ReturnType<typeof buildTestApp>>;
let writer: Database;
let url: string;
let headers: Record<string, string>;
let appId: string;
let otherAppId: string;

beforeAll(async () => {
  t = await buildTestApp({ app: { events: { limits: { maxSubscribesPerMinute: 10_000 } } } });
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  url = `ws://127.0.0.1:${(t.app.server.address() as { port: number }).port}/api/v1/events`;
  // `test.*` events have no REST view: only an admin's stream carries them (event-views.ts).
  headers = { cookie: (await t.as('admin')).cookie };
  writer = createDatabase(t.db.url, { max: 4 });
  appId = (await t.db.prisma.application.findUniqueOrThrow({ where: { name: 'qubot-one' } })).id;
  otherAppId = (await t.db.prisma.application.create({ data: { name: 'churn-other', launcher: 'true' } })).id;
});
afterAll(async () => {
  await writer?.close();
  await t?.close();
});

async function storedSeqs(applicationIds: string[], after: number, upTo: number): Promise<number[]> {
  const rows = await t.db.prisma.event.findMany({
    where: { applicationId: { in: applicationIds }, seq: { gt: BigInt(after), lte: BigInt(upTo) } },
    orderBy: { seq: 'asc' },
    select: { seq: true },
  });
  return rows.map((r) => Number(r.seq));
}

const newest = async () =>
  Number((await t.db.prisma.eventCounter.findUniqueOrThrow({ where: { id: 1 } })).value);

/** Writers appending to both applications until `stop()`; resolves with how many they wrote. */
function writers(n: number) {
  let running = true;
  const loops = Array.from({ length: n }, async (_, w) => {
    let i = 0;
    while (running) {
      await appendEvent(writer.prisma, {
        type: 'test.churn',
        applicationId: i % 4 === 3 ? otherAppId : appId,
        payload: { w, i },
      });
      i++;
    }
    return i;
  });
  return {
    stop: async () => {
      running = false;
      return (await Promise.all(loops)).reduce((a, b) => a + b, 0);
    },
  };
}

/**
 * A client that behaves like the web app: it keeps every event it was sent, resumes from the
 * last one it has, and resubscribes on the same socket while events are still flowing.
 */
function churnClient(start: number, topics: () => string[]) {
  const received: number[] = [];
  let rec: Recorder | null = null;
  let seen = 0;
  const take = () => {
    if (!rec) return;
    const events = rec.events();
    for (const e of events.slice(seen)) received.push(e.seq);
    seen = events.length;
  };
  const last = () => {
    take();
    return received.at(-1) ?? start;
  };
  async function subscribe(since: number) {
    const r = rec as Recorder;
    const n = r.messages.length;
    r.send({ type: 'subscribe', topics: topics(), since });
    return r.next<SubscribedMessage>((m) => m.type === 'subscribed' && r.messages.indexOf(m) >= n);
  }
  /** Waits until an event newer than `seq` arrived on the current socket. */
  const nextEvent = (seq: number) =>
    (rec as Recorder).next<EventMessage>((m) => m.type === 'event' && m.seq > seq);
  return {
    received,
    async open(since: number) {
      rec = await connect(url, headers);
      seen = 0;
      return subscribe(since);
    },
    /** Same socket, `since` = what we have now (events keep coming while the message travels). */
    async resubscribe() {
      const ack = await subscribe(last());
      await nextEvent(ack.lastSeq);
    },
    /** Cut without a close handshake, then resume on a new socket from the last event we have. */
    async resume() {
      const old = rec as Recorder;
      old.ws.terminate();
      await old.closed;
      take();
      const ack = await this.open(last());
      await nextEvent(ack.lastSeq);
    },
    async finish(upTo: number) {
      await (rec as Recorder).untilSeq(upTo, 30_000);
      take();
      (rec as Recorder).ws.terminate();
    },
  };
}

describe('[events] exactly once under churn', () => {
  it('300 subscribe/resume cycles against 3 concurrent writers: every client gets the stored sequence, no gap, no duplicate, in order', async () => {
    const start = await newest();
    const w = writers(3);
    const clients = [
      churnClient(start, () => ['application:qubot-one']),
      // The same subscription named by id: the server must treat it as the same topic.
      churnClient(start, () => [`application:${appId}`]),
      churnClient(start, () => ['application:qubot-one', `application:${appId}`]),
      churnClient(start, () => ['application:qubot-one']),
    ];
    const CYCLES = 75;
    await Promise.all(
      clients.map(async (c, k) => {
        await c.open(start);
        for (let i = 0; i < CYCLES; i++) {
          // Mostly resubscriptions on the live socket (the race), some reconnects.
          if ((i + k) % 3 === 2) await c.resume();
          else await c.resubscribe();
        }
      }),
    );
    const written = await w.stop();
    const end = await newest();
    const stored = await storedSeqs([appId], start, end);
    expect(written).toBeGreaterThan(100);
    expect(stored.length).toBeGreaterThan(50);
    for (const c of clients) {
      await c.finish(stored.at(-1) as number);
      expect(new Set(c.received).size).toBe(c.received.length);
      expect(c.received).toEqual(stored);
    }
  }, 180_000);

  it('a resubscription that adds a topic with a stale since replays the new topic and repeats nothing', async () => {
    const c = await connect(url, headers);
    c.send({ type: 'subscribe', topics: ['application:qubot-one'] });
    const first = await c.next<SubscribedMessage>((m) => m.type === 'subscribed');
    const seqs: number[] = [];
    for (let i = 0; i < 6; i++) {
      seqs.push(
        Number(
          (
            await appendEvent(writer.prisma, {
              type: 'test.add-topic',
              applicationId: i % 2 ? otherAppId : appId,
              payload: { i },
            })
          ).seq,
        ),
      );
    }
    const ours = seqs.filter((_, i) => i % 2 === 0);
    await c.untilSeq(ours.at(-1) as number);
    // The client says it has only up to the subscription start: it sent this before the
    // events above reached it. The server knows what it already sent on this socket.
    c.send({
      type: 'subscribe',
      topics: ['application:qubot-one', 'application:churn-other'],
      since: first.lastSeq,
    });
    const ack = await c.next<SubscribedMessage>((m) => m.type === 'subscribed' && m.topics.length === 2);
    const theirs = seqs.filter((_, i) => i % 2 === 1);
    await c.untilSeq(theirs.at(-1) as number);
    const extra = Number(
      (await appendEvent(writer.prisma, { type: 'test.add-topic', applicationId: appId, payload: {} })).seq,
    );
    await c.untilSeq(extra);
    c.ws.terminate();

    const got = c.events().map((e) => e.seq);
    expect(new Set(got).size).toBe(got.length);
    expect([...got].sort((a, b) => a - b)).toEqual(
      await storedSeqs([appId, otherAppId], first.lastSeq, extra),
    );
    // After the acknowledgement, the new subscription's events are in order and chained from since.
    const after = c.messages
      .slice(c.messages.indexOf(ack) + 1)
      .filter((m): m is EventMessage => m.type === 'event');
    expect(after.map((e) => e.seq)).toEqual([...theirs, extra]);
    expect(after[0]?.prev).toBe(ack.since);
  });
});
