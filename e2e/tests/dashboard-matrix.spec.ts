import { expect, test } from '@playwright/test';
import {
  abortAndWait,
  DASH,
  dashEnvironment,
  deployAndWait,
  ensureDashApp,
  waitForStatus,
} from './dashboard-helpers';
import { signIn } from './support/qubot';

// The first spec on a fresh server sets qubot-ui up (two deployments) before its own work.
test.setTimeout(150_000);

test('[MATRIX]: releases × environments: where each release is live or how it ended, deploy in the cell', async ({
  page,
}) => {
  const admin = await signIn(page, 'admin');
  await ensureDashApp(admin);
  const dev = (await dashEnvironment(admin, 'development')).live!.version;
  await page.goto(`/apps/${DASH}/releases`);
  const table = page.getByRole('table', { name: `Releases of ${DASH}` });
  await expect(table.getByRole('columnheader', { name: 'development' })).toBeVisible();
  await expect(table.getByRole('columnheader', { name: 'production' })).toBeVisible();
  const row = table.getByRole('row').filter({ has: page.getByRole('rowheader', { name: dev, exact: true }) });
  await expect(row).toContainText('Live');
  // A release never deployed to production offers the deploy action there.
  const other = ['1.0.0', '1.1.0', '1.2.0'].find((v) => v !== dev)!;
  await table.getByRole('link', { name: `Deploy ${other} to development` }).click();
  await expect(page).toHaveURL(
    new RegExp(`/apps/${DASH}/releases/${other.replaceAll('.', '\\.')}\\?env=development$`),
  );
  await expect(page.getByRole('form', { name: `Deploy ${other}` }).getByLabel('Environment')).toHaveValue(
    'development',
  );
});

test('[DEPLOY]: Deploy… on a pipeline card deploys the chosen release to that environment', async ({
  page,
}) => {
  const admin = await signIn(page, 'admin');
  await ensureDashApp(admin);
  const live = (await dashEnvironment(admin, 'development')).live!.version;
  const version = live === '1.2.0' ? '1.1.0' : '1.2.0';
  await page.goto(`/apps/${DASH}`);
  const card = page.getByRole('region', { name: 'Environment development' });
  await card.getByRole('button', { name: 'Deploy…' }).click();
  const dialog = page.getByRole('dialog', { name: 'Deploy to development' });
  await dialog.getByLabel('Release').selectOption(version);
  const created = page.waitForResponse(
    (r) =>
      r.request().method() === 'POST' &&
      r.url().endsWith(`/apps/${DASH}/environments/development/deployments`),
  );
  await dialog.getByRole('button', { name: `Deploy ${version}` }).click();
  const response = await created;
  expect(response.status()).toBe(202);
  const { id } = (await response.json()) as { id: string };
  const done = await waitForStatus(admin, id, ['succeeded', 'failed', 'rolled_back', 'aborted', 'paused']);
  if (done.status === 'paused') await abortAndWait(admin, id);
  else expect(done.status).toBe('succeeded');
});

test('[VERIFY]: the promote dialog warns when the release failed upstream, and production refuses without an override', async ({
  page,
}) => {
  const admin = await signIn(page, 'admin');
  await ensureDashApp(admin);
  // A release live in development whose latest run there was aborted.
  const version = `1.4.${Date.now() % 100000}-verify`;
  await admin.post(`/apps/${DASH}/releases`, { version, artifact: 'qubot-one/healthy' }, [201]);
  await deployAndWait(admin, 'development', version);
  const again = await admin.post<{ id: string }>(`/apps/${DASH}/environments/development/deployments`, {
    version,
    strategy: 'canary',
    options: { steps: [50, 100], stepDurationSeconds: 'manual', analysis: { enabled: false } },
    reason: 'verify e2e: to be aborted',
  });
  await waitForStatus(admin, again.id, ['paused'], 'advance');
  await abortAndWait(admin, again.id);
  expect((await dashEnvironment(admin, 'development')).live?.version).toBe(version);

  await page.goto(`/apps/${DASH}`);
  await page
    .getByRole('region', { name: 'Environment production' })
    .getByRole('button', { name: 'Promote →' })
    .click();
  const dialog = page.getByRole('dialog', { name: /^Promote to production/ });
  await expect(
    dialog
      .getByRole('alert')
      .filter({ hasText: `${version} was aborted in development` })
      .first(),
  ).toBeVisible();
  const next = dialog.getByRole('button', { name: 'Continue' });
  await expect(next).toBeDisabled();
  // An admin may override, with a reason; it is audited.
  await dialog.getByRole('checkbox', { name: /^Override/ }).check();
  await next.click();
  await dialog.getByLabel('Reason', { exact: true }).fill('verify e2e: hotfix accepted');
  const created = page.waitForResponse((r) =>
    r.url().endsWith(`/apps/${DASH}/environments/production/promote`),
  );
  await dialog.getByRole('button', { name: 'Promote' }).click();
  const response = await created;
  expect(response.status(), await response.text()).toBe(202);
  const { id } = (await response.json()) as { id: string };
  await abortAndWait(admin, id);
});
