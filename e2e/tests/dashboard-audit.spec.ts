import { readFile } from 'node:fs/promises';
import { expect, test } from '@playwright/test';
import { localDay } from './dashboard-helpers';
import { APP, type DeploymentView, settle, signIn } from './support/qubot';

test('[AUDIT]: CSV export downloads', async ({ page }) => {
  await signIn(page, 'admin');
  await page.goto('/audit');
  await expect(page.getByRole('table', { name: 'Audit entries' })).toBeVisible();
  const download = page.waitForEvent('download');
  await page.getByRole('link', { name: 'Export CSV' }).click();
  const file = await download;
  expect(file.suggestedFilename()).toMatch(/^qubot-audit-.*\.csv$/);
  const csv = await readFile((await file.path())!, 'utf8');
  const [header, ...rows] = csv.trimEnd().split('\r\n');
  expect(header).toMatch(/^id,at,actor,role,action,/);
  expect(rows.length).toBeGreaterThan(0);
  expect(csv).toContain('auth.login');
});

test('[AUDIT]: date filter', async ({ page }) => {
  await signIn(page, 'admin');
  await page.goto('/audit');
  const filters = page.getByRole('form', { name: 'Filter audit log' });
  await filters.getByLabel('From', { exact: true }).fill(localDay());
  await filters.getByLabel('To', { exact: true }).fill(localDay());
  const answer = page.waitForResponse((r) => r.url().includes('/api/v1/audit?'));
  await filters.getByRole('button', { name: 'Apply' }).click();
  expect((await answer).status()).toBe(200);
  // Today's sign-ins are in the trail: the filter keeps them.
  await expect(page.getByRole('table', { name: 'Audit entries' }).getByRole('row')).not.toHaveCount(0);
  await expect(page.getByText('Could not load the audit log')).toHaveCount(0);
  // Tomorrow has nothing yet.
  await filters.getByLabel('From', { exact: true }).fill(localDay(1));
  await filters.getByLabel('To', { exact: true }).fill(localDay(1));
  await filters.getByRole('button', { name: 'Apply' }).click();
  await expect(page.getByText('No audit entries match')).toBeVisible();
  // The export takes the same filters, and the server accepts them.
  const href = await page.getByRole('link', { name: 'Export CSV' }).getAttribute('href');
  expect(href).toContain('/api/v1/audit.csv?');
  expect((await page.request.get(href!)).status()).toBe(200);
});

test('[AUDIT]: entries show the version and link to the deployment; real actions; sign-ins hidden', async ({
  page,
}) => {
  const api = await signIn(page, 'admin');
  await settle(api);
  // A deployment of qubot-one to development (blue-green, one instance) makes an entry to follow.
  const envs = await api.environments();
  const dev = envs.find((e) => e.name === 'development')!;
  const version = ['1.0.0', '1.1.0', '1.2.0'].find((v) => v !== dev.live?.version)!;
  const d = await api.post<DeploymentView>(`/apps/${APP}/environments/development/deployments`, {
    version,
    strategy: 'blue-green',
    options: { autoSwitch: true, rollbackWindowSeconds: 0 },
    reason: 'audit link e2e',
  });

  await page.goto('/audit');
  const filters = page.getByRole('form', { name: 'Filter audit log' });
  const action = filters.getByLabel('Action');
  // A list of the actions the server writes, not a free text field.
  await expect(action.locator('option', { hasText: 'deployment.create' })).toHaveCount(1);
  await action.selectOption('deployment.create');
  await filters.getByRole('button', { name: 'Apply' }).click();
  const row = page.getByRole('row').filter({ hasText: 'audit link e2e' });
  await expect(row).toHaveCount(1);
  await expect(row.getByRole('link', { name: version, exact: true })).toHaveAttribute(
    'href',
    `/apps/${APP}/releases/${version}`,
  );
  await row.getByRole('link', { name: `${APP}/development` }).click();
  await expect(page).toHaveURL(`/deployments/${d.id}`);
  await expect(page.getByRole('heading', { level: 1 })).toContainText(version);

  // Sign-ins can be hidden.
  await page.goto('/audit');
  await expect(page.getByRole('cell', { name: 'auth.login', exact: true }).first()).toBeVisible();
  await filters.getByLabel('Hide sign-ins').check();
  await filters.getByRole('button', { name: 'Apply' }).click();
  await expect(page).toHaveURL(/hideSignIns=1/);
  await expect(page.getByRole('table', { name: 'Audit entries' })).toBeVisible();
  await expect(page.getByRole('cell', { name: 'auth.login', exact: true })).toHaveCount(0);
  await settle(api);
});
