// A real deployment that waits for approval notifies the webhooks that chose
// `deployment.approval_requested`, with the link to the dashboard's approval screen (sign-in still
// required); a hanging endpoint on the same events never holds the deployment up.
import { Deployment } from '@qubot/api-contract';
import { Value } from 'typebox/value';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Receiver, startReceiver } from '../../../../test/webhook-receiver.ts';
import { APP, FAST, type Harness, startHarness } from '../orchestrator/test-helpers.ts';
import { verifySignature } from './webhook-payload.ts';

const PUBLIC_URL = 'https://deploy.example.test';
let h: Harness;
let rx: Receiver;

beforeAll(async () => {
  rx = await startReceiver();
  h = await startHarness({
    webhooks: { timeoutMs: 1500, pollMs: 50, backoffMs: 200, publicUrl: PUBLIC_URL },
  });
}, 60_000);
afterAll(async () => {
  await h?.close();
  await rx?.close();
});

const FINAL = ['succeeded', 'failed', 'rolled_back', 'aborted'];

describe('[webhooks] approval requests', () => {
  it('sends the approval link to the approval screen; a hanging endpoint does not hold the deployment up', async () => {
    const admin = await h.as('admin');
    const allow = await h.app.inject({
      method: 'PUT',
      url: '/api/v1/settings/webhooks',
      headers: admin,
      payload: { allowPrivateTargets: true },
    });
    expect(allow.statusCode, allow.body).toBe(200);
    const create = async (body: object) => {
      const res = await h.post(`/apps/${APP}/webhooks`, body);
      expect(res.statusCode, res.body).toBe(201);
      return res.json<{ id: string; secret: string }>();
    };
    const approvals = await create({
      name: 'approvals',
      url: rx.url('/approvals'),
      events: ['deployment.approval_requested'],
    });
    await create({
      name: 'chat',
      url: rx.url('/chat'),
      events: ['deployment.approval_requested'],
      format: 'slack',
    });
    await create({
      name: 'hangs',
      url: rx.url('/hangs'),
      events: ['deployment.created', 'deployment.updated'],
    });
    rx.answer((r) => (r.body.includes('"name":"hangs"') ? { hang: true } : { status: 204 }));

    const settings = await h.app.inject({
      method: 'PATCH',
      url: `/api/v1/apps/${APP}/environments/development/settings`,
      headers: admin,
      payload: { requiresApproval: true, reason: 'two-person rule' },
    });
    expect(settings.statusCode, settings.body).toBe(200);
    const d = await h.deploy('development', { version: '1.0.0', strategy: 'blue-green', options: FAST });
    const waiting = await h.until(d.id, ['paused', ...FINAL], 60_000);
    expect(waiting.waitingFor).toBe('approval');

    const link = `${PUBLIC_URL}/deployments/${d.id}`;
    await expect
      .poll(() => rx.received.filter((r) => r.body.includes(`|Review and approve>`)).length, {
        timeout: 15_000,
      })
      .toBeGreaterThan(0);
    await expect
      .poll(() => rx.received.filter((r) => r.body.includes('"name":"approvals"')).length, {
        timeout: 15_000,
      })
      .toBeGreaterThan(0);
    const json = rx.received.find((r) => r.body.includes('"name":"approvals"'));
    if (!json) throw new Error('no approval delivery');
    expect(
      verifySignature(
        approvals.secret,
        json.body,
        json.headers['x-qubot-signature'] as string,
        (Date.now() / 1000) | 0,
      ),
    ).toBe(true);
    const body = JSON.parse(json.body);
    expect(body).toMatchObject({
      event: 'deployment.approval_requested',
      application: APP,
      links: { approve: link, deployment: link },
      data: {
        id: d.id,
        environment: 'development',
        status: 'paused',
        waitingFor: 'approval',
        release: { version: '1.0.0' },
      },
    });
    // The data is the REST Deployment view, nothing more.
    expect(Value.Check(Deployment, body.data)).toBe(true);
    const slack = rx.received.find((r) => r.body.includes('Review and approve'));
    expect(JSON.parse(slack?.body ?? '{}')).toEqual({
      text: `:raised_hand: ${APP}: deployment of 1.0.0 to development is waiting for approval. <${link}|Review and approve>`,
    });
    // Approving from there needs a signed-in user (the browser test follows the link itself).
    const anonymous = await h.app.inject({
      method: 'POST',
      url: `/api/v1/deployments/${d.id}/approve`,
      payload: {},
    });
    expect(anonymous.statusCode).toBe(401);

    // Approved by a second person, the deployment finishes while the hanging endpoint still hangs.
    const approved = await h.app.inject({
      method: 'POST',
      url: `/api/v1/deployments/${d.id}/approve`,
      headers: admin,
      payload: {},
    });
    expect([200, 202], approved.body).toContain(approved.statusCode);
    expect((await h.until(d.id, FINAL, 60_000)).status).toBe('succeeded');
    const hanging = await h.db.prisma.webhookDelivery.findMany({ where: { webhook: { name: 'hangs' } } });
    expect(hanging.length).toBeGreaterThan(1);
    expect(hanging.some((x) => x.status === 'delivered')).toBe(false);
  }, 120_000);
});
