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
  waitForDeployment,
} from './security-helpers';

const FREEZE = 'Quarter close e2e';

let admin: Api & { dispose(): Promise<void> };
test.beforeAll(async ({ playwright }, testInfo) => {
  testInfo.setTimeout(150_000);
  admin = await apiSession(playwright.request, testInfo, DEMO.admin);
  const rm = await apiSession(playwright.request, testInfo, DEMO['release-manager']);
  await ensureSecApp(admin, rm);
  await rm.dispose();
});
test.afterAll(async () => {
  // Never leave development frozen for whoever comes next.
  const windows = await admin.json<{ items: { id: string; reason: string }[] }>(
    `/api/v1/apps/${APP}/environments/development/freeze-windows`,
  );
  for (const w of windows.items.filter((w) => w.reason === FREEZE))
    await admin.delete(`/api/v1/apps/${APP}/environments/development/freeze-windows/${w.id}`);
  await admin?.dispose();
});

test('[SECURITY]: a freeze window blocks a deploy, named on screen; an admin overrides with a reason, and the override is audited', async ({
  browser,
  context,
  page,
}, testInfo) => {
  test.setTimeout(90_000);
  const version = servingVersion(await admin.environment('development')) === '1.1.0' ? '1.0.0' : '1.1.0';

  // A release-manager freezes development from the environment page.
  await signIn(context, DEMO['release-manager']);
  await page.goto(`/apps/${APP}/environments/development`);
  const section = page.getByRole('region', { name: 'Freeze windows' });
  await section.getByLabel('Freeze reason').fill(FREEZE);
  await section.getByRole('button', { name: 'Add freeze window' }).click();
  const list = section.getByRole('list', { name: 'Freeze windows of development' });
  await expect(list.getByRole('listitem').filter({ hasText: FREEZE })).toContainText('active now');
  const stored = await admin.json<{ items: { reason: string; active: boolean; createdBy: string }[] }>(
    `/api/v1/apps/${APP}/environments/development/freeze-windows`,
  );
  expect(stored.items.find((w) => w.reason === FREEZE)).toMatchObject({
    active: true,
    createdBy: 'release-manager',
  });

  // The release-manager's deploy is refused, naming the window; no override is offered to them.
  await page.goto(`/apps/${APP}/releases/${version}`);
  await page.getByLabel('Environment').selectOption('development');
  await page.getByRole('button', { name: 'Deploy to development' }).click();
  await expect(page.getByRole('alert').filter({ hasText: 'is frozen' })).toContainText(
    `environment development is frozen: "${FREEZE}" (until`,
  );
  await expect(page.getByLabel('Override freeze window')).toHaveCount(0);

  // An admin, in another browser, gets the same refusal, then overrides it with a reason.
  const adminContext = await browser.newContext({ baseURL: baseUrlOf(testInfo) });
  try {
    await signIn(adminContext, DEMO.admin);
    const adminPage = await adminContext.newPage();
    await adminPage.goto(`/apps/${APP}/releases/${version}`);
    await adminPage.getByLabel('Environment').selectOption('development');
    const deployButton = adminPage.getByRole('button', { name: 'Deploy to development' });
    await deployButton.click();
    await expect(adminPage.getByRole('alert').filter({ hasText: 'is frozen' })).toContainText(`"${FREEZE}"`);
    await adminPage.getByLabel('Override freeze window').check();
    // With the override, a reason is required before the request can go.
    await expect(adminPage.getByLabel('Reason')).toHaveAttribute('required', '');
    await adminPage.getByLabel('Reason').fill('hotfix for a security advisory');
    await deployButton.click();
    await adminPage.getByRole('link', { name: 'Follow it' }).click();
    await expect(adminPage).toHaveURL(/\/deployments\/[0-9a-f-]{36}$/);
    const id = adminPage.url().split('/').pop() as string;
    await waitForDeployment(admin, id, 'succeeded');
    expect(servingVersion(await admin.environment('development'))).toBe(version);

    // The audit log page shows the override next to the deployment it let through.
    await adminPage.goto('/audit?action=freeze.override');
    const row = adminPage.getByRole('row').filter({ hasText: 'hotfix for a security advisory' });
    await expect(row).toContainText('freeze.override');
    await expect(row).toContainText(`${APP}/development`);
    await expect(row).toContainText('admin');

    // And so does the API, with the window it overrode.
    const audit = await admin.json<{
      items: { actor: string; target: string; reason: string; requestId: string; after: unknown }[];
    }>(`/api/v1/audit?action=freeze.override&app=${APP}`);
    const entry = audit.items.find((e) => e.reason === 'hotfix for a security advisory');
    expect(entry).toMatchObject({ actor: 'admin', target: `${APP}/development` });
    expect(JSON.stringify(entry?.after)).toContain(FREEZE);
    const created = await admin.json<{ items: { requestId: string; targetId: string }[] }>(
      `/api/v1/audit?action=deployment.create&app=${APP}&env=development`,
    );
    // Same request (same transaction) as the deployment it allowed.
    expect(created.items.find((e) => e.targetId === id)?.requestId).toBe(entry?.requestId);
  } finally {
    await adminContext.close();
  }

  // The release-manager lifts the freeze from the environment page.
  await page.goto(`/apps/${APP}/environments/development`);
  await section.getByRole('button', { name: `Remove freeze window ${FREEZE}` }).click();
  await section.getByRole('button', { name: 'Yes, remove' }).click();
  await expect(section.getByText('No freeze windows.')).toBeVisible();
  const after = await admin.json<{ items: { reason: string }[] }>(
    `/api/v1/apps/${APP}/environments/development/freeze-windows`,
  );
  expect(after.items.some((w) => w.reason === FREEZE)).toBe(false);
});
