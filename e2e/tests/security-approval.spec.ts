import { expect, test } from '@playwright/test';
import {
  APP,
  type Api,
  apiSession,
  baseUrlOf,
  DEMO,
  ensureSecApp,
  expectStatus,
  servingVersion,
  signIn,
  waitForDeployment,
} from './security-helpers';

// A second release-manager, so the approval is one release-manager checking another's work.
const APPROVER = { username: 'sec-approver', password: 'approver-password-2468' };

let admin: Api & { dispose(): Promise<void> };
test.beforeAll(async ({ playwright }, testInfo) => {
  testInfo.setTimeout(150_000);
  admin = await apiSession(playwright.request, testInfo, DEMO.admin);
  const rm = await apiSession(playwright.request, testInfo, DEMO['release-manager']);
  await ensureSecApp(admin, rm);
  await rm.dispose();
  const initial = 'first-password-1357';
  const user = await admin.post('/api/v1/users', {
    username: APPROVER.username,
    role: 'release-manager',
    password: initial,
  });
  expect([201, 409], await user.text()).toContain(user.status());
  if (user.status() === 201) {
    // A password set by an admin must be changed at first sign-in.
    const first = await apiSession(playwright.request, testInfo, {
      username: APPROVER.username,
      password: initial,
    });
    await expectStatus(
      await first.post('/api/v1/auth/password', { currentPassword: initial, newPassword: APPROVER.password }),
      200,
    );
    await first.dispose();
  }
});
test.afterAll(async () => {
  await admin?.dispose();
});

test('[SECURITY]: two-person approval — a release-manager cannot approve their own production deployment; a second person does, and only then does traffic move', async ({
  browser,
}, testInfo) => {
  testInfo.setTimeout(120_000);
  const before = await admin.environment('production');
  expect(before.requiresApproval).toBe(true);
  const oldVersion = servingVersion(before);
  expect(oldVersion).not.toBeNull();
  const version = oldVersion === '1.1.0' ? '1.2.0' : '1.1.0';
  // The promotion order: the release must have succeeded in development before production.
  const dev = await admin.environment('development');
  if (servingVersion(dev) !== version) {
    const res = await expectStatus(
      await admin.post(`/api/v1/apps/${APP}/environments/development/deployments`, {
        version,
        strategy: 'blue-green',
        options: { autoSwitch: true, rollbackWindowSeconds: 0 },
        reason: 'two-person rule e2e: through development first',
      }),
      202,
    );
    await waitForDeployment(admin, (await res.json()).id as string, 'succeeded');
  }

  // Release-manager A starts the deployment from the release page.
  const contextA = await browser.newContext({ baseURL: baseUrlOf(testInfo) });
  const contextB = await browser.newContext({ baseURL: baseUrlOf(testInfo) });
  try {
    const apiA = await signIn(contextA, DEMO['release-manager']);
    const pageA = await contextA.newPage();
    await pageA.goto(`/apps/${APP}/releases/${version}`);
    await pageA.getByLabel('Environment').selectOption('production');
    await pageA.getByLabel('Reason').fill('two-person rule e2e');
    await pageA.getByRole('button', { name: 'Deploy to production' }).click();
    await pageA.getByRole('link', { name: 'Follow it' }).click();
    await expect(pageA).toHaveURL(/\/deployments\/[0-9a-f-]{36}$/);
    const id = pageA.url().split('/').pop() as string;

    // The new colour starts and is healthy, then the deployment waits for a second person.
    await waitForDeployment(admin, id, 'paused', 'approval');
    await expect(pageA.getByText('Waiting for approval').first()).toBeVisible();
    const controlsA = pageA.getByRole('region', { name: 'Controls' });
    await expect(controlsA).toBeVisible();
    await expect(
      controlsA.getByText(
        'You started this deployment: a second person (release-manager or admin) must approve it.',
      ),
    ).toBeVisible();
    await expect(controlsA.getByRole('button', { name: 'Approve' })).toHaveCount(0);
    // Nor can A approve through the API with the same session.
    const self = await expectStatus(await apiA.post(`/api/v1/deployments/${id}/approve`), 403);
    expect((await self.json()).error.message).toBe(
      'forbidden: you started this deployment; a second person must approve it',
    );

    // Stored state: the new release runs, healthy, but the router still sends everything to the old one.
    const waiting = await admin.environment('production');
    expect(waiting.live?.version).toBe(oldVersion);
    expect(servingVersion(waiting)).toBe(oldVersion);
    expect(waiting.instances.some((i) => i.version === version && i.healthy)).toBe(true);
    expect((await admin.deployment(id)).status).toBe('paused');

    // A second release-manager approves in another browser context.
    await signIn(contextB, APPROVER);
    const pageB = await contextB.newPage();
    await pageB.goto(`/deployments/${id}`);
    const controlsB = pageB.getByRole('region', { name: 'Controls' });
    await controlsB.getByRole('button', { name: 'Approve' }).click();
    const dialog = pageB.getByRole('dialog', { name: 'Approve deployment?' });
    await dialog.getByLabel('Reason (optional)').fill('checked the changelog');
    await dialog.getByRole('button', { name: 'Approve' }).click();
    await expect(controlsB.getByText('Approved.')).toBeVisible();

    // Protected environments switch by hand: approval alone has not moved traffic yet.
    const approved = await waitForDeployment(admin, id, 'paused', 'switch');
    expect(approved.status).toBe('paused');
    expect(servingVersion(await admin.environment('production'))).toBe(oldVersion);
    await expect(pageB.getByText('Waiting for traffic switch').first()).toBeVisible();
    // Advance moves all traffic in a protected environment: it asks first, with a reason.
    await controlsB.getByRole('button', { name: 'Advance' }).click();
    const advance = pageB.getByRole('dialog', { name: 'Advance deployment?' });
    await advance.getByLabel('Reason', { exact: true }).fill('switch after approval');
    await advance.getByRole('button', { name: 'Advance' }).click();

    await waitForDeployment(admin, id, 'succeeded');
    const after = await admin.environment('production');
    expect(after.live?.version).toBe(version);
    expect(servingVersion(after)).toBe(version);
    // A's page follows live: a finished deployment has no controls left.
    await expect(controlsA).toHaveCount(0);

    // Audited: who asked and who approved.
    const audit = await admin.json<{
      items: { actor: string; action: string; target: string; reason: string }[];
    }>(`/api/v1/audit?app=${APP}&env=production&action=deployment.`);
    const mine = audit.items.filter((e) => e.target === `${APP}/production`);
    expect(mine.find((e) => e.action === 'deployment.approve')).toMatchObject({
      actor: APPROVER.username,
      reason: 'checked the changelog',
    });
    expect(
      mine.find((e) => e.action === 'deployment.create' && e.reason === 'two-person rule e2e')?.actor,
    ).toBe('release-manager');
  } finally {
    await contextA.close();
    await contextB.close();
  }
});
