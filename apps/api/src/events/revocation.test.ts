// Credentials that change while a socket is open (issue 8 item 7): revocation, logout, password
// change, disablement and role change reach open sockets on ANOTHER API process within seconds.
import type { EventMessage, SubscribedMessage } from '@qubot/api-contract';
import { EventStreamClose } from '@qubot/api-contract';
import { appendEvent, createEnvironmentRepo, type Prisma } from '@qubot/db';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AuthHeaders, buildTestApp, loginAs } from '../../../../test/app.ts';
import { buildApp } from '../app.ts';
import { environmentView } from '../views/views.ts';
import { connect, type Recorder } from './ws-test-client.ts';

let t: Awaited<ReturnType<typeof buildTestApp>>;
/** A second API process on the same database: the sockets live there, the changes happen on t. */
let replica: Awaited<ReturnType<typeof buildApp>>;
let url: string;
let admin: AuthHeaders;
let appId: string;

beforeAll(async () => {
  t = await buildTestApp();
  replica = await buildApp({ db: t.db });
  await replica.listen({ port: 0, host: '127.0.0.1' });
  url = `ws://127.0.0.1:${(replica.server.address() as { port: number }).port}/api/v1/events`;
  admin = await t.as('admin');
  appId = (await t.db.prisma.application.findUniqueOrThrow({ where: { name: 'qubot-one' } })).id;
});
afterAll(async () => {
  await replica?.close();
  await t?.close();
});

const PASSWORD = 'Correct-Horse-Battery-9';
let users = 0;

/** A new user of `role` who has set their password; returns its id and a signed-in session. */
async function newUser(role: 'viewer' | 'admin') {
  const username = `ws-user-${++users}`;
  const created = await t.app.inject({
    method: 'POST',
    url: '/api/v1/users',
    headers: admin,
    payload: { username, role, password: 'First-Pass-Word-1' },
  });
  expect(created.statusCode).toBe(201);
  const id = (created.json() as { user?: { id: string }; id?: string }).user?.id ?? created.json().id;
  const first = await loginAs(t.app, { username, password: 'First-Pass-Word-1' });
  const changed = await t.app.inject({
    method: 'POST',
    url: '/api/v1/auth/password',
    headers: first,
    payload: { currentPassword: 'First-Pass-Word-1', newPassword: PASSWORD },
  });
  expect(changed.statusCode).toBe(200);
  return { id: id as string, username, session: first };
}

async function subscribed(headers: Record<string, string>, topics = ['application:qubot-one']) {
  const rec = await connect(url, headers);
  rec.send({ type: 'subscribe', topics });
  const ack = await rec.next<SubscribedMessage>((m) => m.type === 'subscribed');
  return { rec, ack };
}

/** The socket still streams: a new event arrives. */
async function stillStreams(rec: Recorder) {
  // What the server writes (views/environment-events.ts): the environment's view.
  const view = environmentView((await createEnvironmentRepo(t.db.prisma).findView(appId, 'staging'))!);
  const e = await appendEvent(t.db.prisma, {
    type: 'environment.updated',
    applicationId: appId,
    payload: view as unknown as Prisma.InputJsonValue,
  });
  await rec.untilSeq(Number(e.seq));
}

async function createToken(role: 'viewer' | 'deployer') {
  const res = await t.app.inject({
    method: 'POST',
    url: '/api/v1/tokens',
    headers: admin,
    payload: { name: `ws-token-${++users}`, role },
  });
  expect(res.statusCode).toBe(201);
  const body = res.json() as { token: { id: string }; secret: string };
  return { id: body.token.id, bearer: { authorization: `Bearer ${body.secret}` } };
}

describe('[events] revocation reaches open sockets on every API process', () => {
  it('a revoked API token: its socket is closed (4401) and REST answers 401', async () => {
    const token = await createToken('viewer');
    const { rec } = await subscribed(token.bearer);
    const bystander = await subscribed({ cookie: admin.cookie });
    const res = await t.app.inject({ method: 'DELETE', url: `/api/v1/tokens/${token.id}`, headers: admin });
    expect(res.statusCode).toBe(200);
    const closed = await rec.closed;
    expect(closed.code).toBe(EventStreamClose.Revoked);
    expect(closed.reason).toMatch(/sign in again/);
    const rest = await t.app.inject({ method: 'GET', url: '/api/v1/apps', headers: token.bearer });
    expect(rest.statusCode).toBe(401);
    // Nobody else was touched.
    await stillStreams(bystander.rec);
    bystander.rec.ws.close();
  });

  it('a revocation whose notice never arrived: the next subscribe (since 0) is refused, nothing replayed', async () => {
    const token = await createToken('deployer');
    const { rec } = await subscribed(token.bearer);
    // Revoked behind the stream's back (no NOTIFY), as if the notice had been lost.
    await t.db.prisma.apiToken.update({ where: { id: token.id }, data: { revokedAt: new Date() } });
    const before = rec.events().length;
    rec.send({ type: 'subscribe', topics: ['application:qubot-one'], since: 0 });
    const closed = await rec.closed;
    expect(closed.code).toBe(EventStreamClose.Revoked);
    expect(rec.events().length).toBe(before);
  });

  it('logout closes the sockets of that session only', async () => {
    const user = await newUser('viewer');
    const other = await loginAs(t.app, { username: user.username, password: PASSWORD });
    const a = await subscribed({ cookie: user.session.cookie });
    const b = await subscribed({ cookie: other.cookie });
    const out = await t.app.inject({ method: 'POST', url: '/api/v1/auth/logout', headers: user.session });
    expect(out.statusCode).toBe(200);
    expect((await a.rec.closed).code).toBe(EventStreamClose.Revoked);
    await stillStreams(b.rec);
    b.rec.ws.close();
  });

  it("a password change closes the user's other sessions' sockets; the changing session keeps its own", async () => {
    const user = await newUser('viewer');
    const other = await loginAs(t.app, { username: user.username, password: PASSWORD });
    const mine = await subscribed({ cookie: user.session.cookie });
    const theirs = await subscribed({ cookie: other.cookie });
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/password',
      headers: user.session,
      payload: { currentPassword: PASSWORD, newPassword: `${PASSWORD}-2` },
    });
    expect(res.statusCode).toBe(200);
    expect((await theirs.rec.closed).code).toBe(EventStreamClose.Revoked);
    await stillStreams(mine.rec);
    mine.rec.ws.close();
  });

  it('disabling a user closes all their sockets', async () => {
    const user = await newUser('viewer');
    const { rec } = await subscribed({ cookie: user.session.cookie });
    const res = await t.app.inject({
      method: 'PATCH',
      url: `/api/v1/users/${user.id}`,
      headers: admin,
      payload: { disabled: true },
    });
    expect(res.statusCode).toBe(200);
    expect((await rec.closed).code).toBe(EventStreamClose.Revoked);
  });

  it('a role change downgrades the open socket: it keeps streaming, with the new role’s views', async () => {
    const user = await newUser('admin');
    const { rec } = await subscribed({ cookie: user.session.cookie });
    // Applications created through the API (the real producer of application.created).
    const createApp = async (name: string) => {
      const res = await t.app.inject({
        method: 'POST',
        url: '/api/v1/apps',
        headers: admin,
        payload: { name, launcher: 'node server.js --api-key s3cret', environments: [{ name: 'dev' }] },
      });
      expect(res.statusCode).toBe(201);
    };
    const replayCreated = async (name: string) => {
      const n = rec.messages.length;
      rec.send({ type: 'subscribe', topics: [`application:${name}`], since: 0 });
      return rec.next<EventMessage>(
        (m) => m.type === 'event' && m.event === 'application.created' && rec.messages.indexOf(m) >= n,
      );
    };
    await createApp('ws-role-app');
    expect((await replayCreated('ws-role-app')).data).toMatchObject({
      launcher: 'node server.js --api-key s3cret',
    });

    const res = await t.app.inject({
      method: 'PATCH',
      url: `/api/v1/users/${user.id}`,
      headers: admin,
      payload: { role: 'viewer' },
    });
    expect(res.statusCode).toBe(200);
    // Same socket, no reconnect: what it is sent now is shaped for a viewer.
    await createApp('ws-role-app-2');
    const data = (await replayCreated('ws-role-app-2')).data as Record<string, unknown>;
    expect(data).toMatchObject({ name: 'ws-role-app-2', environments: ['dev'] });
    expect(data).not.toHaveProperty('launcher');
    expect(JSON.stringify(data)).not.toContain('s3cret');
    expect(rec.ws.readyState).toBe(rec.ws.OPEN);
    rec.ws.close();
  });
});
