// Each delivery attempt is published as a `webhook.delivery` event (docs/webhooks.md "Delivery
// log"), stored in the same transaction as the attempt's outcome, on the application's topic, with
// the delivery log's own view; release managers and admins get it, viewers and deployers do not.
import type { CreatedWebhook, EventMessage, WebhookDelivery } from '@qubot/api-contract';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp } from '../../../../test/app.ts';
import { type Receiver, startReceiver } from '../../../../test/webhook-receiver.ts';
import { connect, type Recorder } from '../events/ws-test-client.ts';

type T = Awaited<ReturnType<typeof buildTestApp>>;
let t: T;
let rx: Receiver;
let url: string;
const HOOKS = '/api/v1/apps/qubot-one/webhooks';

beforeAll(async () => {
  rx = await startReceiver();
  // The first attempt of each delivery fails (503), the retry succeeds: two events per delivery.
  const firstTry = new Set<string>();
  rx.answer((r) => {
    const id = String(r.headers['x-qubot-delivery'] ?? '');
    if (firstTry.has(id)) return { status: 200, body: 'thanks' };
    firstTry.add(id);
    return { status: 503, body: 'busy' };
  });
  t = await buildTestApp({ app: { webhooks: { worker: true, backoffMs: 50, maxBackoffMs: 50 } } });
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  url = `ws://127.0.0.1:${(t.app.server.address() as { port: number }).port}/api/v1/events`;
  const res = await t.app.inject({
    method: 'PUT',
    url: '/api/v1/settings/webhooks',
    headers: await t.as('admin'),
    payload: { allowPrivateTargets: true },
  });
  expect(res.statusCode, res.body).toBe(200);
}, 60_000);
afterAll(async () => {
  await t?.close();
  await rx?.close();
});

async function listen(role: 'viewer' | 'deployer' | 'release-manager' | 'admin'): Promise<Recorder> {
  const rec = await connect(url, { cookie: (await t.as(role)).cookie });
  rec.send({ type: 'subscribe', topics: ['application:qubot-one'] });
  await rec.next((m) => m.type === 'subscribed');
  return rec;
}

const deliveryEvents = (rec: Recorder) =>
  rec.events().filter((e) => e.event === 'webhook.delivery') as EventMessage[];

describe('[webhooks] delivery events', () => {
  it('each attempt publishes the delivery log row to release managers and admins; viewers and deployers get none', async () => {
    const hook = (
      await t.app.inject({
        method: 'POST',
        url: HOOKS,
        headers: await t.as('release-manager'),
        payload: { name: 'events', url: rx.url('/events'), events: ['release.created'] },
      })
    ).json<CreatedWebhook>();
    const viewer = await listen('viewer');
    const deployer = await listen('deployer');
    const rm = await listen('release-manager');
    const admin = await listen('admin');
    const created = await t.app.inject({
      method: 'POST',
      url: '/api/v1/apps/qubot-one/releases',
      headers: await t.as('deployer'),
      payload: { version: '7.7.7', artifact: 'qubot-one/healthy' },
    });
    expect(created.statusCode, created.body).toBe(201);

    const delivered = await rm.next<EventMessage>(
      (m) =>
        m.type === 'event' &&
        m.event === 'webhook.delivery' &&
        (m.data as WebhookDelivery).status === 'delivered',
      30_000,
    );
    await admin.next((m) => m.type === 'event' && m.seq === delivered.seq, 10_000);
    // The failed first attempt came first, as its own event: pending its retry, with the 503.
    const [first, second] = deliveryEvents(rm);
    expect(first?.data).toMatchObject({
      webhookId: hook.id,
      application: 'qubot-one',
      event: 'release.created',
      status: 'pending',
      attempts: 1,
      statusCode: 503,
      responseExcerpt: 'busy',
    });
    expect(second?.seq).toBe(delivered.seq);
    // The event carries exactly the row the delivery log serves.
    const log = await t.app.inject({
      method: 'GET',
      url: `${HOOKS}/${hook.id}/deliveries`,
      headers: await t.as('release-manager'),
    });
    const { application, ...row } = delivered.data as WebhookDelivery & { application: string };
    expect(application).toBe('qubot-one');
    expect(log.json<{ items: WebhookDelivery[] }>().items).toEqual([row]);
    expect(row).toMatchObject({
      status: 'delivered',
      attempts: 2,
      statusCode: 200,
      responseExcerpt: 'thanks',
    });

    // Viewers and deployers saw the release but no delivery event (the stream stays gap-free).
    for (const rec of [viewer, deployer]) {
      await rec.next((m) => m.type === 'event' && m.event === 'release.created', 10_000);
      expect(deliveryEvents(rec)).toEqual([]);
    }
    const stored = await t.db.prisma.event.count({ where: { type: 'webhook.delivery' } });
    expect(stored).toBe(2);
    for (const rec of [viewer, deployer, rm, admin]) rec.ws.close();
  }, 60_000);
});
