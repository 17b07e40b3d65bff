import { expect, test } from '@playwright/test';
import { APP, card, type DeploymentView, liveIndicator, screenshot, settle, signIn } from './support/qubot';

// Pictures of the main screens after the flows above, for the report and (with
// QUBOT_E2E_DOCS_SCREENSHOTS=1) for docs/screenshots, which README.md and docs/dashboard.md show.
test.use({ viewport: { width: 1280, height: 800 } });

test('[DOCS]: screenshots of the main screens', async ({ page }, testInfo) => {
  const api = await signIn(page, 'release-manager');
  await settle(api);

  await page.goto('/');
  await expect(liveIndicator(page)).toBeVisible();
  for (const env of ['development', 'staging', 'production']) {
    await expect(card(page, env)).toContainText('No active deployment');
  }
  await screenshot(page, testInfo, 'pipeline');

  await page.goto(`/apps/${APP}/environments/production`);
  await expect(page.getByRole('table', { name: 'Instances in production' })).toBeVisible();
  await expect(page.getByRole('table', { name: 'Deployments to production' })).toBeVisible();
  await screenshot(page, testInfo, 'environment');

  // The canary that rolled itself back ([CANARY]), newest first.
  const rolledBack = await api.get<{ items: DeploymentView[] }>(`/deployments?app=${APP}&status=rolled_back`);
  const canary = rolledBack.items.find((d) => d.strategy === 'canary');
  expect(canary, 'a canary deployment that rolled back').toBeDefined();
  await page.goto(`/deployments/${canary!.id}`);
  await expect(page.getByRole('region', { name: 'Failed check' })).toBeVisible();
  await screenshot(page, testInfo, 'deployment-canary-rolled-back');
  const analysis = page.getByRole('heading', { name: 'Analysis', level: 2 });
  await expect(page.getByRole('table', { name: 'Analysis results' })).toBeAttached();
  // Heading at the top of the picture: charts and the results table below it.
  await analysis.evaluate((el) => el.scrollIntoView());
  await screenshot(page, testInfo, 'deployment-canary-analysis');

  await page.goto('/releases');
  await expect(page.getByRole('table', { name: `Releases of ${APP}` })).toBeVisible();
  await screenshot(page, testInfo, 'releases');

  await page.goto('/audit');
  await expect(page.getByRole('table', { name: 'Audit entries' })).toBeVisible();
  await screenshot(page, testInfo, 'audit');
});
