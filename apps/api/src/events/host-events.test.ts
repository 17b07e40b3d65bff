// Hosts on the event stream (docs/hosts.md, "Live host data"): the `hosts` topic (admins only)
// carries `host.updated` — GET /hosts' item — on every state change (enrolled, connected, cordoned,
// disconnected) and, at most once per `eventEveryMs`, with a heartbeat's figures. A real agent
// (`qubot agent`'s code, in this process) on 127.0.0.1, a real server and PostgreSQL.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EventMessage, EventStreamError, Host, List } from '@qubot/api-contract';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp } from '../../../../test/app.ts';
import { type RunningAgent, runAgent } from '../../../cli/src/agent/agent.ts';
import { connect, type Recorder } from './ws-test-client.ts';

type T = Awaited<ReturnType<typeof buildTestApp>>;
let t: T;
let base: string;
let wsUrl: string;
let agent: RunningAgent | null = null;
const dataDir = mkdtempSync(join(tmpdir(), 'qubot-host-events-'));

beforeAll(async () => {
  t = await buildTestApp({
    app: { orchestrator: { worker: false, agents: { heartbeatMs: 100, eventEveryMs: 400 } } },
  });
  base = await t.app.listen({ port: 0, host: '127.0.0.1' });
  wsUrl = `${base.replace('http', 'ws')}/api/v1/events`;
});
afterAll(async () => {
  await agent?.stop();
  await t?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

const hostEvents = (rec: Recorder) =>
  rec.events().filter((e): e is EventMessage & { data: Host } => e.event === 'host.updated');

async function subscribe(rec: Recorder, body: object) {
  rec.send({ type: 'subscribe', ...body });
  return rec.next((m) => m.type === 'subscribed' || m.type === 'error');
}

describe('[events] host.updated on the hosts topic', () => {
  it('only admins may watch the fleet', async () => {
    const viewer = await connect(wsUrl, { cookie: (await t.as('release-manager')).cookie });
    const answer = (await subscribe(viewer, { topics: ['hosts'] })) as EventStreamError;
    expect(answer).toMatchObject({ type: 'error', code: 'unknown_topic', field: 'topics[0]' });
    viewer.ws.close();
  });

  it('enrolment, connection, heartbeats, cordon and disconnection each reach the page as GET /hosts items', async () => {
    const admin = await t.as('admin');
    const rec = await connect(wsUrl, { cookie: admin.cookie });
    expect(await subscribe(rec, { topics: ['hosts'] })).toMatchObject({
      type: 'subscribed',
      topics: ['hosts'],
    });

    const token = await t.app.inject({
      method: 'POST',
      url: '/api/v1/hosts/enrolment-tokens',
      headers: admin,
      payload: { name: 'ev-1' },
    });
    agent = await runAgent({
      server: base,
      dataDir,
      address: '127.0.0.1',
      name: 'ev-1',
      enrolToken: token.json().secret,
      log: () => {},
    });
    // Enrolled (not connected yet), then connected: ready, with the heartbeat's figures.
    const ready = await rec.next<EventMessage & { data: Host }>(
      (m) => m.type === 'event' && m.event === 'host.updated' && (m.data as Host).state === 'ready',
      15_000,
    );
    expect(hostEvents(rec)[0]?.data.name).toBe('ev-1');
    expect(ready.topics).toEqual(['hosts']);
    expect(ready.data.memoryTotalBytes).toBeGreaterThan(0);
    expect(ready.data.agentVersion).toBe('0.1.0');
    // The event is the REST view: what GET /hosts answers for the host (same fields, same types).
    const list = (
      await t.app.inject({ method: 'GET', url: '/api/v1/hosts', headers: admin })
    ).json() as List<Host>;
    expect(Object.keys(ready.data).sort()).toEqual(Object.keys(list.items[0] as Host).sort());

    // GET /runtime: this machine, and the host with what its agent's supervisor enforces.
    const runtime = (await t.app.inject({ method: 'GET', url: '/api/v1/runtime', headers: admin })).json();
    expect(runtime.runtimes[0]).toMatchObject({ kind: 'local', capabilities: { hosts: 'local' } });
    expect(runtime.runtimes.find((r: { kind: string }) => r.kind === 'hosts')).toEqual({
      kind: 'hosts',
      environments: 0,
      capabilities: null,
      hosts: [{ id: ready.data.id, name: 'ev-1', connected: true, capabilities: agent.driver.capabilities }],
    });

    // Heartbeats: a later lastSeenAt arrives without any request, but not one event per beat.
    const seenAt = ready.data.lastSeenAt as string;
    const later = await rec.next<EventMessage & { data: Host }>(
      (m) => m.type === 'event' && m.event === 'host.updated' && ((m.data as Host).lastSeenAt ?? '') > seenAt,
      10_000,
    );
    expect(later.data.state).toBe('ready');
    const beats = hostEvents(rec).length;
    const t0 = Date.now();
    await rec.next((m) => m.type === 'event' && hostEvents(rec).length >= beats + 3, 10_000);
    const elapsed = Date.now() - t0;
    // Heartbeats every 0.1 s, but their events (stored at `at`) at least 0.4 s apart: throttled.
    const stamps = hostEvents(rec)
      .slice(beats - 1)
      .map((e) => Date.parse(e.at));
    for (let i = 1; i < stamps.length; i++)
      expect((stamps[i] as number) - (stamps[i - 1] as number)).toBeGreaterThanOrEqual(390);
    // …and over that time, far fewer stored than heartbeats were received.
    const stored = await t.db.prisma.event.count({
      where: { type: 'host.updated', createdAt: { gte: new Date(t0) } },
    });
    expect(stored).toBeLessThanOrEqual(Math.ceil(elapsed / 400) + 1);

    // A state change through the API: cordoned.
    const host = list.items[0] as Host;
    const cordon = await t.app.inject({
      method: 'POST',
      url: `/api/v1/hosts/${host.id}/cordon`,
      headers: admin,
      payload: { reason: 'events test' },
    });
    expect(cordon.statusCode, cordon.body).toBe(200);
    await rec.next(
      (m) => m.type === 'event' && m.event === 'host.updated' && (m.data as Host).state === 'cordoned',
    );
    // Uncordoned, then the agent goes away: disconnected.
    await t.app.inject({
      method: 'POST',
      url: `/api/v1/hosts/${host.id}/uncordon`,
      headers: admin,
      payload: {},
    });
    await agent.stop();
    agent = null;
    await rec.next(
      (m) => m.type === 'event' && m.event === 'host.updated' && (m.data as Host).state === 'disconnected',
      10_000,
    );

    // Stored events: a client that resumes from 0 gets them again (replay), in order.
    const again = await connect(wsUrl, { cookie: admin.cookie });
    await subscribe(again, { topics: ['hosts'], since: 0 });
    const all = hostEvents(rec).length;
    await again.next((m) => m.type === 'event' && hostEvents(again).length >= all, 10_000);
    expect(
      hostEvents(again)
        .slice(0, all)
        .map((e) => e.seq),
    ).toEqual(
      hostEvents(rec)
        .slice(0, all)
        .map((e) => e.seq),
    );
    rec.ws.close();
    again.ws.close();
  }, 60_000);
});
