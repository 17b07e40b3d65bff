import { expect, test } from '@playwright/test';
import { csrfOf, DASH, dashEnvironment, ensureDashApp } from './dashboard-helpers';
import { screenshot, signIn } from './support/qubot';

// The first spec on a fresh server sets qubot-ui up (two deployments) before its own work.
test.setTimeout(150_000);

test('[SETTINGS]: protection and approval set from the UI', async ({ page, browser }, testInfo) => {
  const admin = await signIn(page, 'admin');
  await ensureDashApp(admin);
  expect(await dashEnvironment(admin, 'development')).toMatchObject({
    protected: false,
    requiresApproval: false,
  });
  try {
    await page.goto(`/apps/${DASH}/environments/development`);
    const form = page.getByRole('form', { name: 'Settings of development' });
    await form.getByRole('checkbox', { name: /^Protected/ }).check();
    await form.getByRole('checkbox', { name: /^Requires approval/ }).check();
    await form.getByLabel('Inconclusive analysis, after its limit').selectOption('wait');
    await form.getByRole('button', { name: 'Save settings' }).click();
    const dialog = page.getByRole('dialog', { name: 'Change the settings of development?' });
    await expect(dialog).toContainText('protected: no → yes');
    await expect(dialog).toContainText('requires approval: no → yes');
    await expect(dialog).toContainText('inconclusive analysis: follow protection → wait for a person');
    await screenshot(page, testInfo, 'environment-settings');
    await dialog.getByLabel('Reason', { exact: true }).fill('settings e2e');
    await dialog.getByRole('button', { name: 'Save settings' }).click();
    await expect(form.getByRole('status')).toHaveText('Saved. The next deployment uses these settings.');

    // Stored, shown on the pipeline card, and audited with the reason.
    expect(await dashEnvironment(admin, 'development')).toMatchObject({
      protected: true,
      requiresApproval: true,
      analysisOnInconclusive: 'wait',
    });
    await page.goto(`/apps/${DASH}`);
    await expect(page.getByRole('region', { name: 'Environment development' })).toContainText('protected');
    const audit = await admin.get<{ items: { action: string; reason: string | null; target: string }[] }>(
      `/audit?action=environment.settings&app=${DASH}`,
    );
    expect(audit.items[0]).toMatchObject({ target: `${DASH}/development`, reason: 'settings e2e' });

    // A release-manager may change replicas, not protection.
    const other = await browser.newContext();
    try {
      const rm = await other.newPage();
      await signIn(rm, 'release-manager');
      await rm.goto(`/apps/${DASH}/environments/development`);
      const rmForm = rm.getByRole('form', { name: 'Settings of development' });
      await expect(rmForm.getByRole('checkbox', { name: /^Protected/ })).toBeDisabled();
      await expect(rmForm.getByRole('checkbox', { name: /^Requires approval/ })).toBeDisabled();
      await expect(rmForm.getByLabel('Inconclusive analysis, after its limit')).toBeDisabled();
      await expect(rmForm.getByLabel('Traffic provider')).toBeDisabled();
      await expect(rmForm.getByLabel('Replicas')).toBeEnabled();
      await expect(rmForm).toContainText('Protection and approval: needs admin (you are release-manager).');
    } finally {
      await other.close();
    }
  } finally {
    const res = await page.request.patch(`/api/v1/apps/${DASH}/environments/development/settings`, {
      data: {
        protected: false,
        requiresApproval: false,
        analysisOnInconclusive: null,
        reason: 'settings e2e: restore',
      },
      headers: { 'x-csrf-token': await csrfOf(page) },
    });
    expect(res.status()).toBe(200);
  }
});

test('[SETTINGS]: the traffic provider changed from the UI: HAProxy takes over the address, with its own target checks', async ({
  page,
}) => {
  const admin = await signIn(page, 'admin');
  await ensureDashApp(admin);
  const before = await dashEnvironment(admin, 'development');
  expect(before).toMatchObject({ trafficProvider: 'node', router: { status: 'up' } });
  try {
    await page.goto(`/apps/${DASH}/environments/development`);
    const section = page.getByRole('region', { name: 'Traffic provider', exact: true });
    await expect(section).toContainText('Node router (embedded)');
    const form = page.getByRole('form', { name: 'Settings of development' });
    await form.getByLabel('Traffic provider').selectOption('haproxy');
    await form.getByRole('button', { name: 'Save settings' }).click();
    const dialog = page.getByRole('dialog', { name: 'Change the settings of development?' });
    await expect(dialog).toContainText('traffic provider: Node router (embedded) → HAProxy');
    await expect(dialog).toContainText('The traffic provider changes now');
    await dialog.getByLabel('Reason', { exact: true }).fill('provider e2e');
    // A deployment of an earlier spec may still keep its old colour warm (409 until it is done):
    // the dialog stays open with the server's message, and saving again retries.
    await expect(async () => {
      if (await dialog.isVisible()) await dialog.getByRole('button', { name: 'Save settings' }).click();
      await expect(form.getByRole('status')).toHaveText(
        /^Saved\. HAProxy now serves http:\/\/127\.0\.0\.1:\d+\.$/,
        {
          timeout: 5_000,
        },
      );
    }).toPass({ timeout: 60_000 });

    // The page shows HAProxy and its check of the live instance; the stored state agrees.
    await expect(section).toContainText('HAProxy');
    const targets = section.getByRole('table', { name: /Targets of development/ });
    await expect(targets).toContainText('takes traffic');
    await expect(targets).toContainText(/passing \(L7OK/);
    const after = await dashEnvironment(admin, 'development');
    expect(after).toMatchObject({
      trafficProvider: 'haproxy',
      address: before.address,
      router: { status: 'up' },
    });
    const served = await page.request.get(`${before.address}/`);
    expect(served.status()).toBe(200);
    const audit = await admin.get<{ items: { action: string; reason: string | null; after: unknown }[] }>(
      `/audit?action=environment.traffic_provider&app=${DASH}`,
    );
    expect(audit.items[0]).toMatchObject({ reason: 'provider e2e', after: { trafficProvider: 'haproxy' } });
  } finally {
    await expect(async () => {
      const res = await page.request.patch(`/api/v1/apps/${DASH}/environments/development/settings`, {
        data: { trafficProvider: 'node', reason: 'provider e2e: restore' },
        headers: { 'x-csrf-token': await csrfOf(page) },
      });
      expect(res.status()).toBe(200);
    }).toPass({ timeout: 60_000 });
  }
});
