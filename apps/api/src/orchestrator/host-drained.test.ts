// A drain that ends announces the host `drained` at once (docs/hosts.md, "Draining a host"): the
// transaction that stops the host's last instance appends `host.updated` with state `drained`, not
// the host's next heartbeat. Two real `qubot agent`s on 127.0.0.1, a real worker and PostgreSQL;
// heartbeat events are throttled to one per 10 minutes, so only the state change can send it.
import type { EventMessage, Host, List } from '@qubot/api-contract';
import { createHostRepo, createInstanceRepo, LIVE_INSTANCE_STATUSES } from '@qubot/db';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { placeOnHosts } from '../../../../test/netns.ts';
import { connect } from '../events/ws-test-client.ts';
import { announceDrained } from '../views/host-events.ts';
import { APP, FAST, FINAL, type Harness, settled, startHarness, startLocalAgent } from './test-helpers.ts';

let h: Harness;
let server: string;
const agents: Awaited<ReturnType<typeof startLocalAgent>>[] = [];

beforeAll(async () => {
  h = await startHarness({ agents: { heartbeatMs: 300, eventEveryMs: 600_000 } });
  server = await h.app.listen({ host: '127.0.0.1', port: 0 });
  for (const name of ['drain-a', 'drain-b']) agents.push(await startLocalAgent(h, server, name));
}, 120_000);

afterAll(async () => {
  for (const a of agents) await a.stop();
  await h?.close();
}, 60_000);

const hostNamed = async (name: string) => {
  const res = await h.app.inject({ method: 'GET', url: '/api/v1/hosts', headers: await h.as('admin') });
  return (res.json() as List<Host>).items.find((x) => x.name === name) as Host;
};
const hostAction = async (name: string, action: 'cordon' | 'uncordon' | 'drain') => {
  const res = await h.app.inject({
    method: 'POST',
    url: `/api/v1/hosts/${(await hostNamed(name)).id}/${action}`,
    payload: { reason: `test ${action}` },
    headers: await h.as('admin'),
  });
  expect(res.statusCode, res.body).toBe(200);
  return res.json() as Host;
};
const liveOn = (hostId: string) =>
  h.db.prisma.instance.findMany({ where: { hostId, status: { in: LIVE_INSTANCE_STATUSES } } });
const drainedEvents = async (hostId: string, after: bigint) =>
  (await h.db.prisma.event.findMany({ where: { type: 'host.updated', seq: { gt: after } } })).filter(
    (e) => (e.payload as unknown as Host).id === hostId && (e.payload as unknown as Host).state === 'drained',
  );
const lastSeq = async () => (await h.db.prisma.event.findFirst({ orderBy: { seq: 'desc' } }))?.seq ?? 0n;

/** `env` placed on the hosts with one instance of `version`, started on `onto` (the other cordoned). */
async function oneInstanceOn(env: string, version: string, onto: string, other: string) {
  await hostAction(other, 'cordon');
  await placeOnHosts(h, APP, env, 1);
  const d = await h.deploy(env, { version, strategy: 'rolling', options: FAST });
  expect((await h.until(d.id, FINAL, 90_000)).status).toBe('succeeded');
  await settled(h, env);
  const [row] = await liveOn((await hostNamed(onto)).id);
  expect(row?.environmentId).toBeDefined();
  await hostAction(other, 'uncordon');
}

describe('[hosts] drained is announced when the drain ends', () => {
  it('the drain that stops the host’s last instance appends host.updated (drained) in the same transaction, without a heartbeat', async () => {
    await oneInstanceOn('development', '1.0.0', 'drain-a', 'drain-b');
    const host = await hostNamed('drain-a');
    const [instance] = await liveOn(host.id);
    if (!instance) throw new Error('no instance on drain-a');
    const rec = await connect(`${server.replace('http', 'ws')}/api/v1/events`, {
      cookie: (await h.as('admin')).cookie as string,
    });
    rec.send({ type: 'subscribe', topics: ['hosts'] });
    await rec.next((m) => m.type === 'subscribed');
    const from = await lastSeq();

    expect(await hostAction('drain-a', 'drain')).toMatchObject({ state: 'draining', instances: 1 });
    const drained = await rec.next<EventMessage & { data: Host }>(
      (m) => m.type === 'event' && m.event === 'host.updated' && (m.data as Host).state === 'drained',
      90_000,
    );
    expect(drained.data).toMatchObject({ id: host.id, state: 'drained', instances: 0 });
    // Committed by the transaction that stopped the instance (same xmin), not by a later one.
    const [ev] = await h.db.prisma.$queryRaw<{ xmin: string }[]>`
      SELECT xmin::text FROM events WHERE seq = ${BigInt(drained.seq)}`;
    const [row] = await h.db.prisma.$queryRaw<{ xmin: string; status: string }[]>`
      SELECT xmin::text, status::text FROM instances WHERE id = ${instance.id}`;
    expect(row?.status).toBe('stopped');
    expect(ev?.xmin).toBe(row?.xmin);
    expect(await drainedEvents(host.id, from)).toHaveLength(1);
    // What GET /hosts answers agrees with the event.
    expect(await hostNamed('drain-a')).toMatchObject({ state: 'drained', instances: 0 });
    const [drain] = await h.db.prisma.deployment.findMany({
      where: { kind: 'drain' },
      orderBy: { createdAt: 'desc' },
    });
    expect((await h.until(drain?.id as string, FINAL, 60_000)).status).toBe('succeeded');
    rec.ws.close();
  }, 240_000);

  it('[race] two transactions stopping a draining host’s last two instances at once: exactly one announces it drained', async () => {
    // drain-a back in service with two live instances (two environments), drain-b out of the way.
    await hostAction('drain-a', 'uncordon');
    await oneInstanceOn('development', '1.1.0', 'drain-a', 'drain-b');
    await oneInstanceOn('staging', '1.0.0', 'drain-a', 'drain-b');
    const host = await hostNamed('drain-a');
    const rows = await liveOn(host.id);
    expect(rows).toHaveLength(2);
    // Draining without drain deployments (this test is the one stopping the instances).
    await createHostRepo(h.db.prisma).updateHost(host.id, { scheduling: 'draining' }, h.db.prisma);
    const from = await lastSeq();
    const instances = createInstanceRepo(h.db.prisma);
    // Each stop waits until the other transaction is inside its stop too, or blocked on the host's
    // row: without the lock both would count the other's instance as live and neither announce.
    let inside = 0;
    let blocked = false;
    let entered = () => {};
    const bothInside = new Promise<void>((r) => {
      entered = r;
    });
    const otherBlocked = async () => {
      while (inside < 2) {
        const [w] = await h.db.prisma.$queryRaw<{ n: number }[]>`
          SELECT count(*)::int AS n FROM pg_stat_activity
          WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%FOR UPDATE%'`;
        if ((w?.n ?? 0) > 0) {
          blocked = true;
          return;
        }
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    const stopOne = (id: string) =>
      h.db.prisma.$transaction(
        (tx) =>
          announceDrained(tx, [host.id], async () => {
            if (++inside === 2) entered();
            await Promise.race([bothInside, otherBlocked()]);
            await instances.markMany([id], { status: 'stopped', healthy: false, stoppedAt: new Date() }, tx);
          }),
        { timeout: 20_000 },
      );
    await Promise.all(rows.map((r) => stopOne(r.id)));
    const events = await drainedEvents(host.id, from);
    expect(events).toHaveLength(1);
    // And the two did overlap: the second waited for the first's lock on the host.
    expect(blocked).toBe(true);
    expect(events[0]?.payload).toMatchObject({ state: 'drained', instances: 0 });
    expect(await hostNamed('drain-a')).toMatchObject({ state: 'drained', instances: 0 });
  }, 300_000);
});
