// Outgoing webhooks through the API (docs/webhooks.md), delivered by the app's own worker to a real
// HTTP receiver on 127.0.0.1 (the admin's private-address allowance on), and refused with it off.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { AuditEntry, CreatedWebhook, List, Webhook, WebhookDelivery } from '@qubot/api-contract';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp } from '../../../../test/app.ts';
import { type Receiver, startReceiver } from '../../../../test/webhook-receiver.ts';
import { REPO_ROOT } from '../demo.ts';
import { viewFor } from '../events/event-views.ts';
import { verifySignature } from '../webhooks/webhook-payload.ts';

/** The verification sample of docs/webhooks.md, loaded as a module: what readers copy must work. */
async function docsSample(): Promise<(secret: string, body: string, header: unknown) => boolean> {
  const doc = readFileSync(join(REPO_ROOT, 'docs/webhooks.md'), 'utf8');
  const code = /<!-- verify-sample[^>]*-->\n```js\n([\s\S]*?)```/.exec(doc)?.[1];
  if (!code) throw new Error('docs/webhooks.md has no verify-sample block');
  const dir = mkdtempSync(join(tmpdir(), 'qubot-doc-sample-'));
  try {
    writeFileSync(join(dir, 'verify.mjs'), code);
    return (await import(pathToFileURL(join(dir, 'verify.mjs')).href)).verifyQubotSignature;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

type T = Awaited<ReturnType<typeof buildTestApp>>;
let t: T;
let rx: Receiver;
const HOOKS = '/api/v1/apps/qubot-one/webhooks';
const PUBLIC_URL = 'https://deploy.example.test';

beforeAll(async () => {
  rx = await startReceiver();
  t = await buildTestApp({
    app: {
      webhooks: {
        worker: true,
        timeoutMs: 1500,
        backoffMs: 100,
        maxBackoffMs: 10_000,
        maxAttempts: 3,
        pollMs: 50,
        publicUrl: PUBLIC_URL,
      },
    },
  });
});
afterAll(async () => {
  await t?.close();
  await rx?.close();
});

const inject = async (
  role: 'admin' | 'release-manager' | 'deployer' | 'viewer',
  method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE',
  url: string,
  payload?: object,
) => t.app.inject({ method, url, headers: await t.as(role), ...(payload ? { payload } : {}) });

async function allowPrivate(on: boolean) {
  const res = await inject('admin', 'PUT', '/api/v1/settings/webhooks', {
    allowPrivateTargets: on,
    reason: on ? 'tests post to a receiver on 127.0.0.1' : 'back to the safe default',
  });
  expect(res.statusCode, res.body).toBe(200);
}

async function createHook(body: Record<string, unknown>): Promise<CreatedWebhook> {
  const res = await inject('release-manager', 'POST', HOOKS, body);
  expect(res.statusCode, res.body).toBe(201);
  return res.json<CreatedWebhook>();
}

let versions = 0;
/** Registers a release: one `release.created` event (a real append, through the API). */
async function newRelease() {
  const version = `7.0.${versions++}`;
  const res = await inject('deployer', 'POST', '/api/v1/apps/qubot-one/releases', {
    version,
    artifact: 'qubot-one/healthy',
  });
  expect(res.statusCode, res.body).toBe(201);
  return version;
}

async function deliveries(hook: { id: string }, query = ''): Promise<List<WebhookDelivery>> {
  const res = await inject('release-manager', 'GET', `${HOOKS}/${hook.id}/deliveries${query}`);
  expect(res.statusCode, res.body).toBe(200);
  return res.json();
}

/** Waits until the webhook's newest delivery is finished (delivered or failed) and returns it. */
async function settled(hook: { id: string }, count = 1): Promise<WebhookDelivery[]> {
  let items: WebhookDelivery[] = [];
  await expect
    .poll(
      async () => {
        items = (await deliveries(hook)).items;
        return items.length >= count && items.every((d) => d.status === 'delivered' || d.status === 'failed');
      },
      { timeout: 15_000, interval: 50 },
    )
    .toBe(true);
  return items;
}

const audit = async (action: string) =>
  (await inject('admin', 'GET', `/api/v1/audit?action=${action}`)).json<List<AuditEntry>>().items;

describe('[webhooks] private endpoints', () => {
  it('refuses loopback, private and link-local endpoints with 400 naming url while the setting is off', async () => {
    for (const url of [
      rx.url(),
      'http://localhost:9/hook',
      'http://10.1.2.3/hook',
      'http://192.168.0.10/hook',
      'http://169.254.169.254/latest/meta-data',
      'http://[::1]:8080/hook',
      'http://[fe80::1]/hook',
    ]) {
      const res = await inject('release-manager', 'POST', HOOKS, {
        name: 'refused',
        url,
        events: ['release.created'],
      });
      expect(res.statusCode, url).toBe(400);
      expect(res.json().error.details.field, url).toBe('url');
      expect(res.json().error.message).toMatch(/^url: /);
    }
    const bad = await inject('release-manager', 'POST', HOOKS, {
      name: 'refused',
      url: 'ftp://example.com/x',
      events: ['release.created'],
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.details.field).toBe('url');
    expect(await t.db.prisma.webhook.count()).toBe(0);
  });

  it('lets only an admin allow them, audited with before and after', async () => {
    const denied = await inject('release-manager', 'PUT', '/api/v1/settings/webhooks', {
      allowPrivateTargets: true,
    });
    expect(denied.statusCode).toBe(403);
    await allowPrivate(true);
    const s = await inject('admin', 'GET', '/api/v1/settings/webhooks');
    expect(s.json()).toMatchObject({ allowPrivateTargets: true, updatedBy: 'admin' });
    const [entry] = await audit('settings.webhooks');
    expect(entry).toMatchObject({
      actor: 'admin',
      before: { allowPrivateTargets: false },
      after: { allowPrivateTargets: true },
    });
  });
});

describe('[webhooks] delivery', () => {
  let hook: CreatedWebhook;

  it('creates a webhook whose secret is shown once and never again (audited, stored encrypted)', async () => {
    hook = await createHook({ name: 'ci', url: rx.url('/ci'), events: ['release.created'] });
    expect(hook.secret).toMatch(/^whsec_/);
    const again = await inject('release-manager', 'GET', `${HOOKS}/${hook.id}`);
    expect(again.json()).not.toHaveProperty('secret');
    const list = await inject('release-manager', 'GET', HOOKS);
    expect(JSON.stringify(list.json())).not.toContain(hook.secret);
    const row = await t.db.prisma.webhook.findUniqueOrThrow({ where: { id: hook.id } });
    expect(row.secret).not.toContain(hook.secret.slice(6));
    const [entry] = await audit('webhook.create');
    expect(entry).toMatchObject({ actor: 'release-manager', targetId: hook.id });
    expect(JSON.stringify(entry)).not.toContain(hook.secret);
  });

  it('delivers an event with the REST view, signed with HMAC-SHA256 over timestamp and body', async () => {
    const before = rx.received.length;
    const version = await newRelease();
    await rx.until(before + 1);
    const req = rx.received[before];
    if (!req) throw new Error('no request');
    const sig = req.headers['x-qubot-signature'] as string;
    expect(sig).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
    expect(verifySignature(hook.secret, req.body, sig, Math.floor(Date.now() / 1000))).toBe(true);
    expect(verifySignature(hook.secret, `${req.body} `, sig, Math.floor(Date.now() / 1000))).toBe(false);
    expect(verifySignature('whsec_other', req.body, sig, Math.floor(Date.now() / 1000))).toBe(false);
    // A replayed request: its timestamp is too old.
    expect(verifySignature(hook.secret, req.body, sig, Math.floor(Date.now() / 1000) + 3600)).toBe(false);
    // The sample in docs/webhooks.md accepts the real delivery and refuses a tampered one.
    const sample = await docsSample();
    expect(sample(hook.secret, req.body, sig)).toBe(true);
    expect(sample(hook.secret, req.body.replace('7.0.', '7.1.'), sig)).toBe(false);
    expect(sample('whsec_other', req.body, sig)).toBe(false);
    expect(req.headers['x-qubot-event']).toBe('release.created');
    const body = JSON.parse(req.body);
    // The data is what the event stream's view gives for the stored event (the REST shape).
    const stored = await t.db.prisma.event.findFirstOrThrow({
      where: { type: 'release.created' },
      orderBy: { seq: 'desc' },
    });
    expect(body).toEqual({
      id: req.headers['x-qubot-delivery'],
      event: 'release.created',
      seq: Number(stored.seq),
      at: stored.createdAt.toISOString(),
      application: 'qubot-one',
      webhook: { id: hook.id, name: 'ci' },
      data: viewFor('release.created', stored.payload, 'reader'),
      links: {},
    });
    expect(body.data).toEqual({ application: 'qubot-one', version, artifact: 'qubot-one/healthy' });
    const [d] = await settled(hook);
    expect(d).toMatchObject({
      id: body.id,
      status: 'delivered',
      attempts: 1,
      statusCode: 200,
      responseExcerpt: 'ok',
      error: null,
      event: 'release.created',
      eventSeq: Number(stored.seq),
    });
    expect(d?.latencyMs).toBeGreaterThanOrEqual(0);
  });

  it('retries a failing endpoint with growing back-off, then records the success', async () => {
    const start = rx.received.length;
    rx.answer((_r, i) => (i - start < 2 ? { status: 503, body: 'busy, try later' } : { status: 200 }));
    await newRelease();
    await rx.until(start + 3);
    const [d] = await settled(hook, 2);
    expect(d).toMatchObject({ status: 'delivered', attempts: 3, statusCode: 200 });
    const gaps = [1, 2].map((k) => (rx.received[start + k]?.at ?? 0) - (rx.received[start + k - 1]?.at ?? 0));
    // backoff 100 ms · 2^(n−1), ±20 %: ≥ 80 ms, then ≥ 160 ms.
    expect(gaps[0]).toBeGreaterThanOrEqual(80);
    expect(gaps[1]).toBeGreaterThanOrEqual(160);
    // Every attempt carried the same delivery id.
    const ids = rx.received.slice(start).map((r) => r.headers['x-qubot-delivery']);
    expect(new Set(ids).size).toBe(1);
    rx.answer(() => ({ status: 200, body: 'ok' }));
  });

  it('gives up after the last attempt and keeps the status and the start of the answer', async () => {
    const start = rx.received.length;
    rx.answer(() => ({ status: 500, body: `${'x'.repeat(2000)}` }));
    await newRelease();
    await rx.until(start + 3);
    const [d] = await settled(hook, 3);
    expect(d).toMatchObject({ status: 'failed', attempts: 3, statusCode: 500, error: 'HTTP 500' });
    expect(d?.responseExcerpt).toHaveLength(500);
    rx.answer(() => ({ status: 200, body: 'ok' }));
  });

  it('times out a hanging endpoint without slowing the action that stored the event', async () => {
    const slow = await createHook({ name: 'hangs', url: rx.url('/hang'), events: ['release.created'] });
    rx.answer((r) =>
      r.headers['x-qubot-event'] && r.body.includes('"hangs"') ? { hang: true } : { status: 200 },
    );
    const before = rx.received.length;
    const started = performance.now();
    await newRelease();
    const took = performance.now() - started;
    // The release is answered before the endpoint could even have timed out.
    expect(took).toBeLessThan(1500);
    await rx.until(before + 1);
    const d = await t.db.prisma.webhookDelivery.findFirstOrThrow({
      where: { webhookId: slow.id },
      orderBy: { createdAt: 'desc' },
    });
    await expect
      .poll(async () => (await deliveries(slow)).items[0]?.error, { timeout: 10_000, interval: 50 })
      .toMatch(/timed out after 1500 ms/);
    expect(d.webhookId).toBe(slow.id);
    await inject('release-manager', 'DELETE', `${HOOKS}/${slow.id}`);
    rx.answer(() => ({ status: 200, body: 'ok' }));
  });

  it('pages the delivery log by keyset cursor, newest first, with no row twice', async () => {
    for (let i = 0; i < 3; i++) await newRelease();
    const all = await settled(hook, 6);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: List<WebhookDelivery> = await deliveries(
        hook,
        `?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
      );
      expect(page.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.items.map((d) => d.id));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toEqual(all.map((d) => d.id));
    const created = all.map((d) => d.createdAt);
    expect([...created].sort().reverse()).toEqual(created);
    const bad = await inject('release-manager', 'GET', `${HOOKS}/${hook.id}/deliveries?cursor=nope`);
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.details.field).toBe('querystring.cursor');
  });

  it('redelivers from the log: of concurrent requests exactly one wins, and the event is sent again', async () => {
    const [latest] = await settled(hook, 1);
    if (!latest) throw new Error('no delivery');
    const before = rx.received.length;
    // The endpoint answers only once every request below has been answered: the redelivery stays
    // open while they race (a fast endpoint could finish it in between, and allow another).
    let release = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    rx.answer(() => ({ status: 200, body: 'ok', hold: gate }));
    const results = await Promise.all(
      Array.from({ length: 6 }, () =>
        inject('release-manager', 'POST', `${HOOKS}/${hook.id}/deliveries/${latest.id}/redeliver`),
      ),
    );
    release();
    rx.answer(() => ({ status: 200, body: 'ok' }));
    const codes = results.map((r) => r.statusCode).sort();
    expect(codes).toEqual([202, 409, 409, 409, 409, 409]);
    const won = results.find((r) => r.statusCode === 202)?.json<WebhookDelivery>();
    expect(won).toMatchObject({
      redeliveryOf: latest.id,
      requestedBy: 'release-manager',
      event: latest.event,
    });
    await rx.until(before + 1);
    const req = rx.received[before];
    expect(req?.headers['x-qubot-delivery']).toBe(won?.id);
    expect(JSON.parse(req?.body ?? '{}').seq).toBe(latest.eventSeq);
    await expect
      .poll(async () => (await deliveries(hook)).items.find((d) => d.id === won?.id)?.status, {
        timeout: 10_000,
      })
      .toBe('delivered');
    // Served state == stored state: one redelivery row, audited once.
    expect(await t.db.prisma.webhookDelivery.count({ where: { redeliveryOf: latest.id } })).toBe(1);
    expect(await audit('webhook.redeliver')).toHaveLength(1);
    // Once it is done, it may be sent again.
    const again = await inject(
      'release-manager',
      'POST',
      `${HOOKS}/${hook.id}/deliveries/${latest.id}/redeliver`,
    );
    expect(again.statusCode).toBe(202);
  });

  it('sends a Slack incoming-webhook message when the format is slack', async () => {
    const slack = await createHook({
      name: 'slack',
      url: rx.url('/slack'),
      events: ['release.created'],
      format: 'slack',
    });
    const before = rx.received.length;
    const version = await newRelease();
    await expect.poll(() => rx.received.slice(before).some((r) => r.body.includes('"text"'))).toBe(true);
    const req = rx.received.slice(before).find((r) => r.body.includes('"text"'));
    expect(JSON.parse(req?.body ?? '{}')).toEqual({ text: `qubot-one: release ${version} registered.` });
    expect(
      verifySignature(
        slack.secret,
        req?.body ?? '',
        req?.headers['x-qubot-signature'] as string,
        (Date.now() / 1000) | 0,
      ),
    ).toBe(true);
    await inject('release-manager', 'DELETE', `${HOOKS}/${slack.id}`);
  });

  it('checks the resolved address again at delivery time (DNS rebinding): refused once the setting is off', async () => {
    const rebound = await createHook({
      name: 'rebound',
      url: `http://localhost:${rx.port}/rebound`,
      events: ['release.created'],
    });
    await allowPrivate(false);
    try {
      const before = rx.received.filter((r) => r.body.includes('"rebound"')).length;
      await newRelease();
      await expect
        .poll(async () => (await deliveries(rebound)).items[0]?.status, { timeout: 10_000, interval: 50 })
        .toBe('failed');
      const [d] = (await deliveries(rebound)).items;
      // Refused for good on the first attempt: no retry reaches a private address.
      expect(d).toMatchObject({ attempts: 1, statusCode: null });
      expect(d?.error).toMatch(/resolves to (127\.0\.0\.1|::1), a loopback, private or link-local address/);
      expect(rx.received.filter((r) => r.body.includes('"rebound"')).length).toBe(before);
    } finally {
      await allowPrivate(true);
    }
  });
});

describe('[webhooks] management', () => {
  it('of concurrent creates with one name exactly one wins; the rest are 409 naming body.name', async () => {
    const results = await Promise.all(
      Array.from({ length: 5 }, () =>
        inject('release-manager', 'POST', HOOKS, {
          name: 'twin',
          url: rx.url(),
          events: ['deployment.created'],
        }),
      ),
    );
    expect(results.map((r) => r.statusCode).sort()).toEqual([201, 409, 409, 409, 409]);
    for (const r of results.filter((r) => r.statusCode === 409))
      expect(r.json().error.details.field).toBe('body.name');
    const list = (await inject('release-manager', 'GET', HOOKS)).json<List<Webhook>>();
    expect(list.items.filter((w) => w.name === 'twin')).toHaveLength(1);
    expect(await t.db.prisma.webhook.count({ where: { name: 'twin' } })).toBe(1);
  });

  it('edits event types and format (audited before/after); bad input is 400 naming the field', async () => {
    const list = (await inject('release-manager', 'GET', HOOKS)).json<List<Webhook>>();
    const twin = list.items.find((w) => w.name === 'twin');
    if (!twin) throw new Error('no twin');
    const res = await inject('release-manager', 'PATCH', `${HOOKS}/${twin.id}`, {
      events: ['deployment.approval_requested', 'deployment.updated'],
      format: 'slack',
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({
      events: ['deployment.approval_requested', 'deployment.updated'],
      format: 'slack',
    });
    const [entry] = await audit('webhook.update');
    expect(entry).toMatchObject({
      before: { events: ['deployment.created'], format: 'json' },
      after: { events: ['deployment.approval_requested', 'deployment.updated'], format: 'slack' },
    });
    const bad = await inject('release-manager', 'PATCH', `${HOOKS}/${twin.id}`, {
      events: ['deployment.exploded'],
    });
    expect(bad.statusCode).toBe(400);
    expect(JSON.stringify(bad.json().error)).toContain('events');
    const empty = await inject('release-manager', 'PATCH', `${HOOKS}/${twin.id}`, { events: [] });
    expect(empty.statusCode).toBe(400);
  });

  it('of two concurrent renames to one name exactly one wins; the list serves what was answered', async () => {
    const a = await createHook({ name: 'left', url: rx.url(), events: ['release.created'] });
    const b = await createHook({ name: 'right', url: rx.url(), events: ['release.created'] });
    const results = await Promise.all(
      [a, b].map((h) => inject('release-manager', 'PATCH', `${HOOKS}/${h.id}`, { name: 'middle' })),
    );
    expect(results.map((r) => r.statusCode).sort()).toEqual([200, 409]);
    const winner = results.find((r) => r.statusCode === 200)?.json<Webhook>();
    const list = (await inject('release-manager', 'GET', HOOKS)).json<List<Webhook>>();
    expect(list.items.filter((w) => w.name === 'middle').map((w) => w.id)).toEqual([winner?.id]);
    for (const h of [a, b]) await inject('release-manager', 'DELETE', `${HOOKS}/${h.id}`);
  });

  it('concurrent changes of the admin setting: each answer is what it stored, and the last one is served', async () => {
    const results = await Promise.all(
      [true, false, true, false, true, false].map((on) =>
        inject('admin', 'PUT', '/api/v1/settings/webhooks', { allowPrivateTargets: on }),
      ),
    );
    for (const [i, r] of results.entries()) {
      expect(r.statusCode).toBe(200);
      expect(r.json().allowPrivateTargets).toBe(i % 2 === 0);
    }
    const served = (await inject('admin', 'GET', '/api/v1/settings/webhooks')).json();
    // Serialised on the settings row: each change's "before" is the "after" of the one before it.
    const entries = (await audit('settings.webhooks')).slice(0, 6).reverse();
    for (let i = 1; i < entries.length; i++) expect(entries[i]?.before).toEqual(entries[i - 1]?.after);
    // The audit trail's newest entry is the write that committed last: it is what is served.
    const [last] = await audit('settings.webhooks');
    expect(last?.after).toEqual({ allowPrivateTargets: served.allowPrivateTargets });
    await allowPrivate(true);
  });

  it('of concurrent deletes exactly one wins; the others are 404', async () => {
    const list = (await inject('release-manager', 'GET', HOOKS)).json<List<Webhook>>();
    const twin = list.items.find((w) => w.name === 'twin');
    if (!twin) throw new Error('no twin');
    const results = await Promise.all(
      Array.from({ length: 4 }, () => inject('release-manager', 'DELETE', `${HOOKS}/${twin.id}`)),
    );
    expect(results.map((r) => r.statusCode).sort()).toEqual([200, 404, 404, 404]);
    expect(await t.db.prisma.webhook.count({ where: { id: twin.id } })).toBe(0);
    expect((await audit('webhook.delete')).filter((e) => e.targetId === twin.id)).toHaveLength(1);
  });

  it('is closed to deployers and viewers', async () => {
    for (const role of ['deployer', 'viewer'] as const) {
      expect((await inject(role, 'GET', HOOKS)).statusCode).toBe(403);
      expect(
        (await inject(role, 'POST', HOOKS, { name: 'x', url: rx.url(), events: ['release.created'] }))
          .statusCode,
      ).toBe(403);
    }
  });
});
