import type { EventMessage, EventStreamError, ServerMessage, SubscribedMessage } from '@qubot/api-contract';
import { appendEvent, createDatabase, createEnvironmentRepo, type Database, type Prisma } from '@qubot/db';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp } from '../../../../test/app.ts';
import { connect, expectChained, type Recorder, record } from '../events/ws-test-client.ts';
import { environmentView } from '../views/views.ts';

let t: Awaited<ReturnType<typeof buildTestApp>>;
let writer: Database;
let url: string;
let headers: Record<string, string>;
let appId: string;
let otherAppId: string;
let stagingId: string;

beforeAll(async () => {
  t = await buildTestApp({
    app: {
      events: { limits: { maxBufferedBytes: 64 * 1024, closeGraceMs: 20_000 }, bus: { pageSize: 100 } },
    },
  });
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  url = `ws://127.0.0.1:${(t.app.server.address() as { port: number }).port}/api/v1/events`;
  // `test.*` events have no REST view, so only an admin's stream carries them (event-views.ts).
  const auth = await t.as('admin');
  headers = { cookie: auth.cookie };
  // Events are written by another connection, as the orchestrator (or another process) would.
  writer = createDatabase(t.db.url, { max: 2 });
  const app = await t.db.prisma.application.findUniqueOrThrow({ where: { name: 'qubot-one' } });
  appId = app.id;
  stagingId = (
    await t.db.prisma.environment.findFirstOrThrow({ where: { applicationId: appId, name: 'staging' } })
  ).id;
  otherAppId = (await t.db.prisma.application.create({ data: { name: 'other-app', launcher: 'true' } })).id;
});
afterAll(async () => {
  await writer?.close();
  await t?.close();
});

const append = (applicationId: string, i: number, extra: Record<string, unknown> = {}) =>
  appendEvent(writer.prisma, { type: 'test.burst', applicationId, payload: { i, ...extra } }).then((e) =>
    Number(e.seq),
  );

/** Stored seqs of qubot-one after `after`, straight from the table. */
async function storedSeqs(after: number): Promise<number[]> {
  const rows = await t.db.prisma.event.findMany({
    where: { applicationId: appId, seq: { gt: BigInt(after) } },
    orderBy: { seq: 'asc' },
    select: { seq: true },
  });
  return rows.map((r) => Number(r.seq));
}

async function subscribe(rec: Recorder, msg: Record<string, unknown>) {
  rec.send({ type: 'subscribe', ...msg });
  return rec.next<SubscribedMessage>((m) => m.type === 'subscribed');
}

describe('[API] event stream: reconnect and replay', () => {
  it('a client cut off during a burst of 1,000 events resumes with since and gets each missed event once, in order', async () => {
    const first = await connect(url, headers);
    const { lastSeq: start } = await subscribe(first, { topics: ['application:qubot-one'] });

    // The burst: 1,000 events of qubot-one, with another application's events mixed in (not ours).
    const burst = (async () => {
      let last = 0;
      for (let i = 0; i < 1000; i++) {
        last = await append(appId, i);
        if (i % 10 === 0) await append(otherAppId, i);
      }
      return last;
    })();

    // Drop the connection abruptly (no close handshake) part-way through.
    await first.next((m) => m.type === 'event' && (m.data as unknown as { i: number }).i >= 300);
    first.ws.terminate();
    await first.closed;
    const before = first.events();
    const resumeFrom = before.at(-1)!.seq;

    const second = await connect(url, headers);
    const ack = await subscribe(second, { topics: [`application:${appId}`], since: resumeFrom });
    expect(ack.since).toBe(resumeFrom);
    const lastWritten = await burst;
    await second.untilSeq(lastWritten);
    second.ws.close();

    const after = second.events();
    const received = [...before, ...after].map((e) => e.seq);
    expect(received).toEqual(await storedSeqs(start));
    expect(received).toHaveLength(1000);
    expect(new Set(received).size).toBe(1000);
    expect(expectChained(before, start)).toBe(true);
    expect(expectChained(after, resumeFrom)).toBe(true);
    expect(after.every((e) => e.topics.includes('application:qubot-one'))).toBe(true);
    expect(after.map((e) => (e.data as unknown as { i: number }).i)).toEqual(
      Array.from({ length: after.length }, (_, k) => 1000 - after.length + k),
    );
    // 1,000 commits one after the other: allow for a machine shared with other test files.
  }, 120_000);

  it('replays history then streams live events appended during the replay, without gap or duplicate', async () => {
    const from = Number((await t.db.prisma.eventCounter.findUniqueOrThrow({ where: { id: 1 } })).value);
    for (let i = 0; i < 600; i++) await append(appId, i);

    const ws = await t.app.injectWS('/api/v1/events', { headers });
    const rec = record(ws);
    const ack = await subscribe(rec, { topics: ['application:qubot-one'], since: from });
    // Replay runs in pages of 100; start writing as soon as the first replayed event arrives.
    await rec.next((m) => m.type === 'event');
    let last = 0;
    for (let i = 0; i < 200; i++) last = await append(appId, 600 + i);
    await rec.untilSeq(last);
    ws.terminate();

    const events = rec.events();
    expect(events.map((e) => e.seq)).toEqual(await storedSeqs(from));
    expect(events.map((e) => (e.data as unknown as { i: number }).i)).toEqual(
      Array.from({ length: 800 }, (_, i) => i),
    );
    expect(expectChained(events, from)).toBe(true);
    // Both halves of the handover were exercised: replayed (≤ lastSeq) and live (> lastSeq).
    expect(events.some((e) => e.seq <= ack.lastSeq)).toBe(true);
    expect(events.some((e) => e.seq > ack.lastSeq)).toBe(true);
  }, 120_000);

  it('subscribes by human names and tags events with ids and names', async () => {
    const ws = await t.app.injectWS('/api/v1/events', { headers });
    const rec = record(ws);
    const ack = await subscribe(rec, { topics: ['environment:qubot-one/staging'] });
    expect(ack.topics).toEqual([`environment:${stagingId}`]);
    await appendEvent(writer.prisma, { type: 'test.other-env', applicationId: appId, payload: {} });
    // The payload the server writes (views/environment-events.ts): the environment's view.
    const view = environmentView((await createEnvironmentRepo(writer.prisma).findView(appId, 'staging'))!);
    const e = await appendEvent(writer.prisma, {
      type: 'environment.updated',
      applicationId: appId,
      environmentId: stagingId,
      payload: view as unknown as Prisma.InputJsonValue,
    });
    const msg = await rec.next<EventMessage>((m) => m.type === 'event');
    expect(msg.seq).toBe(Number(e.seq));
    expect(msg.event).toBe('environment.updated');
    expect(msg.topics).toEqual([
      `application:${appId}`,
      'application:qubot-one',
      `environment:${stagingId}`,
      'environment:qubot-one/staging',
    ]);
    expect(msg.data).toEqual(view);
    expect(Date.parse(msg.at)).not.toBeNaN();
    ws.terminate();
  });
});

describe('[API] event stream: bad input', () => {
  it('answers malformed messages, unknown topics and a future since with an error, and stays usable', async () => {
    const ws = await t.app.injectWS('/api/v1/events', { headers });
    const rec = record(ws);
    const nextError = async (raw: unknown) => {
      const n = rec.messages.length;
      rec.send(raw);
      return rec.next<EventStreamError>((m) => m.type === 'error' && rec.messages.indexOf(m) >= n);
    };

    expect(await nextError('{not json')).toMatchObject({ code: 'malformed_message' });
    expect(await nextError([1, 2])).toMatchObject({ code: 'malformed_message' });
    expect(await nextError({ type: 'dance' })).toMatchObject({ code: 'malformed_message', field: 'type' });
    expect(await nextError({ type: 'subscribe', topics: [] })).toMatchObject({
      code: 'malformed_message',
      field: 'topics',
    });
    expect(await nextError({ type: 'subscribe', topics: ['application:qubot-one'], extra: 1 })).toMatchObject(
      {
        code: 'malformed_message',
        field: 'extra',
      },
    );
    expect(
      await nextError({ type: 'subscribe', topics: ['application:qubot-one'], since: -1 }),
    ).toMatchObject({
      code: 'malformed_message',
      field: 'since',
    });
    expect(
      await nextError({ type: 'subscribe', topics: ['application:qubot-one', 'application:nope'] }),
    ).toMatchObject({ code: 'unknown_topic', field: 'topics[1]' });
    expect(await nextError({ type: 'subscribe', topics: ['pipeline:qubot-one'] })).toMatchObject({
      code: 'unknown_topic',
      field: 'topics[0]',
    });
    expect(await nextError({ type: 'subscribe', topics: ['deployment:not-a-uuid'] })).toMatchObject({
      code: 'unknown_topic',
    });
    const newest = Number((await t.db.prisma.eventCounter.findUniqueOrThrow({ where: { id: 1 } })).value);
    const future = await nextError({
      type: 'subscribe',
      topics: ['application:qubot-one'],
      since: newest + 5,
    });
    expect(future).toMatchObject({ code: 'since_in_future', field: 'since' });
    expect(future.message).toContain(String(newest));

    // Still usable: a valid subscription works and streams.
    const ack = await subscribe(rec, { topics: ['application:qubot-one'], since: newest });
    expect(ack.lastSeq).toBeGreaterThanOrEqual(newest);
    const seq = await append(appId, 1);
    const ev = await rec.next<EventMessage>((m) => m.type === 'event');
    expect(ev.seq).toBe(seq);
    expect(ev.prev).toBe(newest);
    ws.terminate();
  });

  it('refuses an upgrade without credentials', async () => {
    await expect(t.app.injectWS('/api/v1/events')).rejects.toThrow(/401/);
  });
});

describe('[API] event stream: slow clients and heartbeats', () => {
  it('closes a client that stops reading with a reason, while a fast client keeps receiving everything', async () => {
    const fast = await connect(url, headers);
    const slow = await connect(url, headers);
    const { lastSeq: start } = await subscribe(fast, { topics: ['application:qubot-one'] });
    await subscribe(slow, { topics: ['application:qubot-one'] });
    slow.ws.pause();

    // ~30 MB: more than the loopback socket buffers hold, so the server's queue must grow.
    const big = 'x'.repeat(100_000);
    let last = 0;
    for (let i = 0; i < 300; i++) last = await append(appId, i, { big });
    await fast.untilSeq(last);
    expect(fast.events().map((e) => e.seq)).toEqual(await storedSeqs(start));

    slow.ws.resume();
    const closed = await slow.closed;
    expect(closed.code).toBe(4008);
    expect(closed.reason).toMatch(/^client too slow; reconnect with since=\d+$/);
    // What it got before the close is a gap-free prefix, and the reason says where to resume.
    const got = slow.events();
    expect(got.length).toBeLessThan(300);
    expect(expectChained(got, start)).toBe(true);
    expect(Number(closed.reason.split('=')[1])).toBe(got.at(-1)?.seq ?? start);
    fast.ws.close();
  });

  it('sends heartbeats with a resume point and cuts a peer that does not answer pings', async () => {
    // A second API process on the same database, with a fast heartbeat.
    const { buildApp } = await import('../app.ts');
    const other = await buildApp({ db: t.db, events: { heartbeatMs: 100 } });
    try {
      await other.listen({ port: 0, host: '127.0.0.1' });
      const otherUrl = `ws://127.0.0.1:${(other.server.address() as { port: number }).port}/api/v1/events`;
      const live = await connect(otherUrl, headers);
      const ack = await subscribe(live, { topics: ['application:qubot-one'] });
      const seq = await append(appId, 1);
      await live.untilSeq(seq);
      const hb = await live.next<ServerMessage & { seq: number }>(
        (m) => m.type === 'heartbeat' && m.seq >= seq,
      );
      expect(hb.seq).toBeGreaterThanOrEqual(ack.lastSeq);

      const mute = await connect(otherUrl, headers, { autoPong: false });
      await subscribe(mute, { topics: ['application:qubot-one'] });
      const closed = await mute.closed;
      expect(closed.code).toBe(1006);
      // The responsive client is still connected.
      expect(live.ws.readyState).toBe(live.ws.OPEN);
      live.ws.close();
    } finally {
      await other.close();
    }
  });
});
