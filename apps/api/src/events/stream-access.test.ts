// What a caller may see and how much it may ask for on the event stream (issue 8 items 10, 13).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EventMessage, EventStreamError, SubscribedMessage } from '@qubot/api-contract';
import { EventStreamClose } from '@qubot/api-contract';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AuthHeaders, buildTestApp } from '../../../../test/app.ts';
import { EVENT_VIEWS } from './event-views.ts';
import { connect, type Recorder } from './ws-test-client.ts';

let t: Awaited<ReturnType<typeof buildTestApp>>;
let url: string;
let admin: AuthHeaders;
let viewer: AuthHeaders;

beforeAll(async () => {
  t = await buildTestApp({
    app: {
      events: {
        limits: { maxSocketsPerUser: 3, maxSubscribesPerMinute: 5, maxTopics: 2, maxQueuedMessages: 8 },
      },
    },
  });
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  url = `ws://127.0.0.1:${(t.app.server.address() as { port: number }).port}/api/v1/events`;
  admin = await t.as('admin');
  viewer = await t.as('viewer');
});
afterAll(async () => {
  await t?.close();
});

async function subscribe(rec: Recorder, msg: Record<string, unknown>) {
  const n = rec.messages.length;
  rec.send({ type: 'subscribe', ...msg });
  return rec.next<SubscribedMessage | EventStreamError>(
    (m) => (m.type === 'subscribed' || m.type === 'error') && rec.messages.indexOf(m) >= n,
  );
}

describe('[events] payloads go through the REST views', () => {
  it('application.created from POST /apps: a viewer gets the GET /apps item (no launcher), an admin the full configuration', async () => {
    const launcher = 'node server.js --api-key sk-live-123';
    const created = await t.app.inject({
      method: 'POST',
      url: '/api/v1/apps',
      headers: admin,
      payload: { name: 'views-app', launcher, environments: [{ name: 'dev' }, { name: 'prod' }] },
    });
    expect(created.statusCode).toBe(201);
    const seen = async (headers: AuthHeaders) => {
      const rec = await connect(url, { cookie: headers.cookie });
      await subscribe(rec, { topics: ['application:views-app'], since: 0 });
      const ev = await rec.next<EventMessage>((m) => m.type === 'event' && m.event === 'application.created');
      rec.ws.close();
      return ev.data as Record<string, unknown>;
    };
    const forViewer = await seen(viewer);
    expect(JSON.stringify(forViewer)).not.toContain('sk-live-123');
    const list = await t.app.inject({ method: 'GET', url: '/api/v1/apps', headers: viewer });
    const restItem = (list.json() as { items: { name: string }[] }).items.find((a) => a.name === 'views-app');
    expect(forViewer).toEqual(restItem);

    const forAdmin = await seen(admin);
    expect(forAdmin).toEqual(created.json());
    expect(forAdmin.launcher).toBe(launcher);
  });

  it('environment.updated from PATCH …/settings equals what GET …/environments/:env answers a viewer', async () => {
    const rec = await connect(url, { cookie: viewer.cookie });
    await subscribe(rec, { topics: ['environment:qubot-one/staging'] });
    const res = await t.app.inject({
      method: 'PATCH',
      url: '/api/v1/apps/qubot-one/environments/staging/settings',
      headers: admin,
      payload: { replicas: 3 },
    });
    expect(res.statusCode).toBe(200);
    const ev = await rec.next<EventMessage>((m) => m.type === 'event' && m.event === 'environment.updated');
    const rest = await t.app.inject({
      method: 'GET',
      url: '/api/v1/apps/qubot-one/environments/staging',
      headers: viewer,
    });
    expect(ev.data).toEqual(rest.json());
    rec.ws.close();
  });

  it('every event type a writer appends has a view (a new one must be added to EVENT_VIEWS)', () => {
    const root = join(import.meta.dirname, '..');
    const types = new Set<string>();
    const walk = (dir: string) => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) walk(path);
        else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts')) {
          const text = readFileSync(path, 'utf8');
          for (const call of text.matchAll(/appendEvent\(\w+, \{[\s\S]*?type:([^\n]+)/g))
            for (const lit of (call[1] ?? '').matchAll(/'([a-z]+\.[a-z_.]+)'/g)) types.add(lit[1] as string);
        }
      }
    };
    walk(root);
    expect(types.size).toBeGreaterThanOrEqual(5);
    expect([...types].filter((type) => !(type in EVENT_VIEWS))).toEqual([]);
  });
});

describe('[events] limits and scoped tokens', () => {
  it('a user may hold at most maxSocketsPerUser sockets; the next one is closed with 4429, others are unaffected', async () => {
    const mine = await Promise.all([0, 1, 2].map(() => connect(url, { cookie: viewer.cookie })));
    for (const rec of mine)
      expect((await subscribe(rec, { topics: ['application:qubot-one'] })).type).toBe('subscribed');
    const extra = await connect(url, { cookie: viewer.cookie });
    const closed = await extra.closed;
    expect(closed.code).toBe(EventStreamClose.TooManyConnections);
    expect(closed.reason).toMatch(/at most 3 per user/);
    // Another user is counted separately.
    const other = await connect(url, { cookie: admin.cookie });
    expect((await subscribe(other, { topics: ['application:qubot-one'] })).type).toBe('subscribed');
    // A closed socket frees its place.
    mine[0]?.ws.close();
    await mine[0]?.closed;
    await expect
      .poll(async () => {
        const again = await connect(url, { cookie: viewer.cookie });
        const answer = await Promise.race([
          subscribe(again, { topics: ['application:qubot-one'] }),
          again.closed,
        ]);
        const ok = 'type' in answer && answer.type === 'subscribed';
        again.ws.close();
        return ok;
      })
      .toBe(true);
    for (const rec of [...mine, other]) rec.ws.close();
  });

  it('caps topics per socket, subscribe messages per minute, and closes a socket that floods messages', async () => {
    const rec = await connect(url, { cookie: admin.cookie });
    const tooMany = await subscribe(rec, {
      topics: ['application:qubot-one', 'environment:qubot-one/staging', 'environment:qubot-one/production'],
    });
    expect(tooMany).toMatchObject({ type: 'error', code: 'malformed_message', field: 'topics' });
    expect((tooMany as EventStreamError).message).toBe('at most 2 topics');
    // 1 subscribe used above; 4 more are allowed this minute, the 6th is refused and ignored.
    for (let i = 0; i < 4; i++)
      expect((await subscribe(rec, { topics: ['application:qubot-one'] })).type).toBe('subscribed');
    expect(await subscribe(rec, { topics: ['application:qubot-one'] })).toMatchObject({
      type: 'error',
      code: 'rate_limited',
    });
    expect(rec.ws.readyState).toBe(rec.ws.OPEN);
    rec.ws.close();

    // 5,000 subscribes on one socket (issue 8 item 13): the socket is closed, not queued.
    const flood = await connect(url, { cookie: admin.cookie });
    const msg = JSON.stringify({ type: 'subscribe', topics: ['application:qubot-one'] });
    for (let i = 0; i < 5000 && flood.ws.readyState === flood.ws.OPEN; i++) flood.ws.send(msg);
    const closed = await flood.closed;
    expect(closed.code).toBe(EventStreamClose.PolicyViolation);
    expect(closed.reason).toMatch(/messages waiting/);
  });

  it('a token scoped to one application gets the same answer for an application it may not read as for one that does not exist', async () => {
    await t.db.prisma.application.create({ data: { name: 'hidden-app', launcher: 'true' } });
    const created = await t.app.inject({
      method: 'POST',
      url: '/api/v1/tokens',
      headers: admin,
      payload: { name: 'scoped-ws', role: 'viewer', applications: ['qubot-one'] },
    });
    expect(created.statusCode).toBe(201);
    const bearer = { authorization: `Bearer ${(created.json() as { secret: string }).secret}` };
    const rec = await connect(url, bearer);
    const hidden = (await subscribe(rec, { topics: ['application:hidden-app'] })) as EventStreamError;
    const missing = (await subscribe(rec, { topics: ['application:absent-app'] })) as EventStreamError;
    expect(hidden.code).toBe('unknown_topic');
    expect(missing.code).toBe('unknown_topic');
    expect(hidden.field).toBe(missing.field);
    expect(hidden.message.replace('hidden-app', 'X')).toBe(missing.message.replace('absent-app', 'X'));
    expect((await subscribe(rec, { topics: ['application:qubot-one'] })).type).toBe('subscribed');
    rec.ws.close();
  });
});
