import { appendEvent, createDatabase, type Database } from '@qubot/db';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../../../../test/db.ts';
import { type BusEvent, createEventBus, type EventBus, type EventFilter, frame } from './event-bus.ts';

let db: Awaited<ReturnType<typeof createTestDatabase>>;
let dbA: Database;
let dbB: Database;
let writer: Database;
let appId: string;
const buses: EventBus[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  // Three connections to one database: two "API processes" and the writer.
  dbA = createDatabase(db.url, { max: 2 });
  dbB = createDatabase(db.url, { max: 2 });
  writer = createDatabase(db.url, { max: 2 });
  appId = (await writer.prisma.application.create({ data: { name: 'bus-app', launcher: 'true' } })).id;
});
afterAll(async () => {
  for (const bus of buses) await bus.stop();
  await Promise.all([dbA.close(), dbB.close(), writer.close()]);
  await db.drop();
});

const filter = (): EventFilter => ({
  applicationIds: new Set([appId]),
  environmentIds: new Set(),
  deploymentIds: new Set(),
});

/** Collects what a bus delivers and resolves once `count` events arrived. */
function collect(bus: EventBus) {
  const got: BusEvent[] = [];
  const waiters: { count: number; resolve: () => void }[] = [];
  bus.subscribe(filter(), (ev) => {
    got.push(ev);
    for (const w of waiters.filter((x) => got.length >= x.count)) w.resolve();
  });
  return {
    got,
    until: (count: number) =>
      got.length >= count
        ? Promise.resolve()
        : new Promise<void>((resolve) => waiters.push({ count, resolve })),
  };
}

async function startBus(database: Database) {
  // No safety poll: delivery must come from NOTIFY (and the reconnect catch-up).
  const bus = createEventBus({ db: database, pollMs: 0, reconnectMinMs: 20, reconnectMaxMs: 200 });
  buses.push(bus);
  await bus.start();
  return bus;
}

describe('[events] event bus', () => {
  it('two buses on one database (two API processes) both deliver an event appended by a third connection', async () => {
    const a = collect(await startBus(dbA));
    const b = collect(await startBus(dbB));
    const ev = await appendEvent(writer.prisma, {
      type: 'test.one',
      applicationId: appId,
      payload: { n: 1 },
    });
    await Promise.all([a.until(1), b.until(1)]);
    for (const got of [a.got, b.got]) {
      expect(got.map((e) => e.seq)).toEqual([Number(ev.seq)]);
      const text = got[0] ? frame(got[0], 'admin', 0)?.toString() : undefined;
      expect(text).toContain('"event":"test.one"');
      expect(text).toContain('"data":{"n":1}');
    }
  });

  it('catches up after its LISTEN connection is lost: NOTIFYs sent meanwhile are not needed', async () => {
    const bus = await startBus(dbA);
    const c = collect(bus);
    const start = bus.lastSeq();
    const admin = new pg.Client({ connectionString: db.url });
    await admin.connect();
    try {
      // Kill every LISTEN session of this database, then write while they are down.
      const killed = await admin.query(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
          WHERE datname = current_database() AND query LIKE 'LISTEN%' AND pid <> pg_backend_pid()`,
      );
      expect(killed.rowCount).toBeGreaterThan(0);
      const seqs: number[] = [];
      for (let i = 0; i < 50; i++) {
        const ev = await appendEvent(writer.prisma, {
          type: 'test.gap',
          applicationId: appId,
          payload: { i },
        });
        seqs.push(Number(ev.seq));
      }
      await c.until(50);
      expect(c.got.map((e) => e.seq)).toEqual(seqs);
      expect(seqs[0]).toBe(start + 1);
      expect(bus.lastSeq()).toBe(seqs.at(-1));
    } finally {
      await admin.end();
    }
  });

  it('reads each event once per process however many subscribers match, in seq order', async () => {
    const bus = await startBus(dbB);
    const subscribers = Array.from({ length: 20 }, () => collect(bus));
    const seqs: number[] = [];
    for (let i = 0; i < 30; i++) {
      const ev = await appendEvent(writer.prisma, {
        type: 'test.many',
        applicationId: appId,
        payload: { i },
      });
      seqs.push(Number(ev.seq));
    }
    await Promise.all(subscribers.map((s) => s.until(30)));
    const first = subscribers[0]!.got;
    expect(first.map((e) => e.seq)).toEqual(seqs);
    // Same object for every subscriber: read and serialised once, not per socket.
    for (const s of subscribers) expect(s.got.every((e, i) => e === first[i])).toBe(true);
  });
});
