import { createHmac } from 'node:crypto';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect, test } from '@playwright/test';
import type { List, WebhookDelivery } from '@qubot/api-contract';
import { APP, screenshot, signIn } from './support/qubot';

// A real endpoint on 127.0.0.1, run by the test: what the server sends is what it receives.
type Hit = { headers: http.IncomingHttpHeaders; body: string };
async function startReceiver() {
  const hits: Hit[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      hits.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('thanks from the e2e receiver');
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    hits,
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    close: () => server.close(),
  };
}

/** The receiver's check, as docs/webhooks.md shows it. */
function validSignature(secret: string, hit: Hit): boolean {
  const header = String(hit.headers['x-qubot-signature'] ?? '');
  const [, t, v1] = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header) ?? [];
  if (!t || !v1) return false;
  const expected = createHmac('sha256', secret).update(`${t}.${hit.body}`).digest('hex');
  return expected === v1 && Math.abs(Date.now() / 1000 - Number(t)) < 300;
}

test('[WEBHOOKS]: create from the dashboard → a real delivery in the log → redeliver; refused on a private address until an admin allows it', async ({
  page,
  browser,
}, testInfo) => {
  const rx = await startReceiver();
  const rmContext = await browser.newContext();
  const rmPage = await rmContext.newPage();
  const admin = await signIn(page, 'admin');
  const rm = await signIn(rmPage, 'release-manager');
  let hookId: string | null = null;
  try {
    await admin.send('PUT /api/v1/settings/webhooks', { body: { allowPrivateTargets: false } });
    // With the setting off, the loopback endpoint is refused, naming the field.
    await rmPage.goto(`/apps/${APP}/webhooks`);
    await expect(rmPage.getByRole('heading', { name: `Webhooks of ${APP}` })).toBeVisible();
    const form = rmPage.getByRole('form', { name: 'Create a webhook' });
    await form.getByLabel('Name').fill('e2e-receiver');
    await form.getByLabel('Endpoint URL').fill(rx.url);
    await form.getByRole('checkbox', { name: /^Release registered/ }).check();
    await form.getByRole('button', { name: 'Create webhook' }).click();
    await expect(rmPage.getByRole('alert')).toContainText('url: 127.0.0.1 resolves to 127.0.0.1');

    // An admin allows private endpoints from Settings (audited with the reason).
    await page.goto('/settings');
    await page.getByLabel('Reason (audited)').fill('e2e receiver on this machine');
    await page.getByRole('checkbox', { name: 'Allow webhook endpoints on private addresses' }).check();
    await expect(
      page.getByRole('checkbox', { name: 'Allow webhook endpoints on private addresses' }),
    ).toBeChecked();
    await expect
      .poll(
        async () =>
          (
            await admin.get<{ items: { action: string; reason: string | null }[] }>(
              '/audit?action=settings.webhooks',
            )
          ).items[0]?.reason,
      )
      .toBe('e2e receiver on this machine');
    expect((await admin.send('GET /api/v1/settings/webhooks', {})).allowPrivateTargets).toBe(true);

    // Created: the secret is shown once.
    await form.getByRole('button', { name: 'Create webhook' }).click();
    const secretBox = rmPage.getByRole('region', { name: 'Signing secret of webhook e2e-receiver' });
    const secretInput = secretBox.getByRole('textbox');
    await expect(secretInput).toHaveValue(/^whsec_/);
    const secret = await secretInput.inputValue();
    const hooks = await rm.send('GET /api/v1/apps/:app/webhooks', { params: { app: APP } });
    const hook = hooks.items.find((h) => h.name === 'e2e-receiver');
    expect(hook).toMatchObject({
      events: ['deployment.approval_requested', 'release.created'],
      enabled: true,
    });
    hookId = hook?.id ?? null;
    const log = rmPage.getByRole('region', { name: 'Deliveries of e2e-receiver' });
    await expect(log).toContainText('No deliveries yet');

    // A real event: a release registered through the API is delivered, signed, and shown in the log.
    // The log follows the `webhook.delivery` event of the attempt: it does not read the server again.
    const logReads: string[] = [];
    rmPage.on('request', (r) => {
      if (r.method() === 'GET' && /\/webhooks\/[^/]+\/deliveries/.test(r.url())) logReads.push(r.url());
    });
    const version = `9.8.${Date.now() % 100000}`;
    await rm.send('POST /api/v1/apps/:app/releases', {
      params: { app: APP },
      body: { version, artifact: 'qubot-one/healthy' },
    });
    await expect.poll(() => rx.hits.length, { timeout: 15_000 }).toBe(1);
    const first = rx.hits[0] as Hit;
    expect(validSignature(secret, first)).toBe(true);
    expect(JSON.parse(first.body)).toMatchObject({
      event: 'release.created',
      application: APP,
      data: { application: APP, version, artifact: 'qubot-one/healthy' },
    });
    const row = log.getByRole('row').filter({ hasText: 'release.created' });
    await expect(row).toHaveCount(1);
    await expect(row).toContainText('delivered');
    await expect(row).toContainText(/HTTP 200 in \d+ ms/);
    await expect(row).toContainText('thanks from the e2e receiver');
    expect(logReads).toEqual([]);
    await screenshot(rmPage, testInfo, 'webhooks');

    // Redeliver from the log: the same event again, as a new delivery by release-manager.
    await row.getByRole('button', { name: /^Redeliver release\.created/ }).click();
    await expect.poll(() => rx.hits.length, { timeout: 15_000 }).toBe(2);
    const second = rx.hits[1] as Hit;
    expect(validSignature(secret, second)).toBe(true);
    expect(JSON.parse(second.body).seq).toBe(JSON.parse(first.body).seq);
    expect(second.headers['x-qubot-delivery']).not.toBe(first.headers['x-qubot-delivery']);
    const again = log.getByRole('row').filter({ hasText: 'sent again by release-manager' });
    await expect(again).toContainText('delivered');
    const stored = await rm.get<List<WebhookDelivery>>(`/apps/${APP}/webhooks/${hookId}/deliveries`);
    expect(stored.items).toHaveLength(2);
    expect(stored.items[0]).toMatchObject({
      redeliveryOf: first.headers['x-qubot-delivery'],
      requestedBy: 'release-manager',
      status: 'delivered',
    });

    // A deployer cannot manage webhooks.
    const depContext = await browser.newContext();
    try {
      const depPage = await depContext.newPage();
      await signIn(depPage, 'deployer');
      await depPage.goto(`/apps/${APP}/webhooks`);
      await expect(depPage.getByText('Webhooks need the release-manager role')).toBeVisible();
      await expect(depPage.getByRole('form', { name: 'Create a webhook' })).toHaveCount(0);
    } finally {
      await depContext.close();
    }

    // Deleted from the table.
    const table = rmPage.getByRole('table', { name: `Webhooks of ${APP}` });
    await table.getByRole('button', { name: 'Delete e2e-receiver' }).click();
    await table.getByRole('button', { name: 'Confirm delete e2e-receiver' }).click();
    await expect(table.getByText('e2e-receiver')).toHaveCount(0);
    hookId = null;
  } finally {
    if (hookId) await rm.send('DELETE /api/v1/apps/:app/webhooks/:id', { params: { app: APP, id: hookId } });
    await admin.send('PUT /api/v1/settings/webhooks', { body: { allowPrivateTargets: false } });
    await rmContext.close();
    rx.close();
  }
});
