import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect, test } from '@playwright/test';
import {
  APP,
  type Api,
  apiSession,
  baseUrlOf,
  DEMO,
  ensureSecApp,
  servingVersion,
  signIn,
} from './security-helpers';

let admin: Api & { dispose(): Promise<void> };
let attacker: Server;
let attackerOrigin = '';
let target = '';

// The attacker's page: served from another origin of the same host (127.0.0.1, another port), so
// SameSite=Strict still lets the browser attach the session cookie — only the CSRF defences stop it.
function attackerPage(kind: 'form' | 'fetch'): string {
  const body = JSON.stringify({ version: '1.2.0', strategy: 'rolling', reason: 'forged' });
  if (kind === 'form') {
    // text/plain forms are the classic way to smuggle a JSON body into a cross-site POST: the
    // browser sends `name=value`, here `{…,"x":"="}`.
    return `<!doctype html><form id="f" method="POST" enctype="text/plain" action="${target}">
<input type="hidden" name='{"version":"1.2.0","strategy":"rolling","reason":"forged","x":"' value='"}'></form>
<script>document.getElementById('f').submit()</script>`;
  }
  return `<!doctype html><p id="out">sending</p><script>
fetch(${JSON.stringify(target)}, { method: 'POST', mode: 'no-cors', credentials: 'include',
  headers: { 'Content-Type': 'text/plain' }, body: ${JSON.stringify(body)} })
  .then(() => { document.getElementById('out').textContent = 'sent'; })
  .catch(() => { document.getElementById('out').textContent = 'blocked'; });
</script>`;
}

test.beforeAll(async ({ playwright }, testInfo) => {
  testInfo.setTimeout(150_000);
  admin = await apiSession(playwright.request, testInfo, DEMO.admin);
  const rm = await apiSession(playwright.request, testInfo, DEMO['release-manager']);
  await ensureSecApp(admin, rm);
  await rm.dispose();
  target = `${baseUrlOf(testInfo)}/api/v1/apps/${APP}/environments/development/deployments`;
  attacker = createServer((req, res) => {
    const kind = req.url === '/fetch' ? 'fetch' : 'form';
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(attackerPage(kind));
  });
  await new Promise<void>((resolve) => attacker.listen(0, '127.0.0.1', resolve));
  attackerOrigin = `http://127.0.0.1:${(attacker.address() as AddressInfo).port}`;
});
test.afterAll(async () => {
  await new Promise<void>((resolve) => (attacker ? attacker.close(() => resolve()) : resolve()));
  await admin?.dispose();
});

test('[SECURITY]: a forged cross-site POST is rejected with the session cookie attached, and nothing changes', async ({
  context,
  page,
}) => {
  // The victim is an admin, signed in: the forged deploy would be allowed if it got through.
  await signIn(context, DEMO.admin);
  const before = await admin.deployments('development');
  const devBefore = await admin.environment('development');
  const auditBefore = await admin.json<{ items: unknown[] }>(
    `/api/v1/audit?app=${APP}&action=deployment.create&limit=200`,
  );

  // 1. An auto-submitting form on the attacker's page.
  const formPost = page.waitForResponse((r) => r.url() === target && r.request().method() === 'POST');
  await page.goto(`${attackerOrigin}/form`);
  const formRes = await formPost;
  const sent = await formRes.request().allHeaders();
  expect(sent.cookie ?? '', 'the browser attached the session cookie').toContain('qubot_session=');
  expect(sent.origin).toBe(attackerOrigin);
  expect(formRes.status()).toBe(403);
  expect(await formRes.json()).toMatchObject({
    error: { code: 'forbidden', details: { reason: 'cross_site' } },
  });
  // What the person sees: the refusal, not a deployment.
  await expect(page.getByText('cross-site request refused')).toBeVisible();

  // 2. A script on the attacker's page (no-cors fetch, credentials included). The browser sends
  // it; the server refuses it (the stored state below), and Cross-Origin-Resource-Policy keeps
  // even the opaque answer from the attacker's page.
  const fetchPost = page.waitForRequest((r) => r.url() === target && r.method() === 'POST');
  await page.goto(`${attackerOrigin}/fetch`);
  expect((await fetchPost).postData()).toContain('"reason":"forged"');
  await expect(page.locator('#out')).toHaveText('blocked');

  // 3. Same origin but without the CSRF header (e.g. a script that cannot read the token cookie).
  await page.goto(`/apps/${APP}`);
  const noToken = await page.evaluate(async (url) => {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ version: '1.2.0', strategy: 'rolling', reason: 'forged' }),
    });
    return { status: res.status, body: await res.json() };
  }, target);
  expect(noToken.status).toBe(403);
  expect(noToken.body.error.details.reason).toBe('csrf');

  // Stored state: no deployment, no audit entry, the environment untouched.
  expect((await admin.deployments('development')).map((d) => d.id)).toEqual(before.map((d) => d.id));
  const devAfter = await admin.environment('development');
  expect(devAfter.live).toEqual(devBefore.live);
  expect(servingVersion(devAfter)).toBe(servingVersion(devBefore));
  expect(devAfter.activeDeployment).toBeNull();
  const auditAfter = await admin.json<{ items: { reason: string | null }[] }>(
    `/api/v1/audit?app=${APP}&action=deployment.create&limit=200`,
  );
  expect(auditAfter.items).toHaveLength(auditBefore.items.length);
  expect(auditAfter.items.some((e) => e.reason === 'forged')).toBe(false);
});
