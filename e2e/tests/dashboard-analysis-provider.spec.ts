import { expect, test } from '@playwright/test';
import { DASH, ensureDashApp, onPageAs } from './dashboard-helpers';
import { signIn } from './support/qubot';

test.setTimeout(120_000);

test('[ANALYSIS]: an admin points canary analysis at Prometheus from the environment page; a bad template is named on its field; a release-manager only reads it', async ({
  page,
  browser,
}) => {
  const admin = await signIn(page, 'admin');
  await ensureDashApp(admin);
  const stored = () =>
    admin.api.call('GET /api/v1/apps/:app/environments/:env/analysis-provider', {
      params: { app: DASH, env: 'development' },
    });
  expect((await stored()).provider).toBe('router');
  await page.goto(`/apps/${DASH}/environments/development`);
  await expect(
    page.getByText("Canary analysis reads: the traffic provider's own figures (router)"),
  ).toBeVisible();
  const form = page.getByRole('form', { name: 'Analysis provider of development' });
  await form.getByLabel('Figures from').selectOption('prometheus');
  await form.getByLabel('Prometheus URL').fill('http://prometheus.internal:9090');
  // The router templates are offered; one is broken on purpose.
  const errorRate = form.getByLabel('Error rate query (0..1)');
  await expect(errorRate).toHaveValue(/qubot_router_errors_total/);
  const good = await errorRate.inputValue();
  await errorRate.fill(good.replace('{{env}}', '{{zone}}'));
  await form.getByLabel('Analysis provider change reason').fill('analysis e2e');
  await form.getByRole('button', { name: 'Save analysis provider' }).click();
  await expect(errorRate).toHaveAttribute('aria-invalid', 'true');
  await expect(errorRate).toHaveAccessibleDescription(/unknown placeholder \{\{zone\}\}/);
  expect((await stored()).provider).toBe('router');

  await errorRate.fill(good);
  await form.getByRole('button', { name: 'Save analysis provider' }).click();
  await expect(form.getByRole('status')).toHaveText(
    'Saved: canary analysis reads Prometheus at http://prometheus.internal:9090 (set by admin)',
  );
  await expect(errorRate).not.toHaveAttribute('aria-invalid', 'true');
  expect(await stored()).toMatchObject({
    provider: 'prometheus',
    prometheus: { url: 'http://prometheus.internal:9090', queries: { errorRate: good } },
  });

  // A release-manager sees where the figures come from, and no form.
  await onPageAs(browser, 'release-manager', `/apps/${DASH}/environments/development`, async (rm) => {
    await expect(
      rm.getByText('Canary analysis reads: Prometheus at http://prometheus.internal:9090 (set by admin)'),
    ).toBeVisible();
    await expect(rm.getByRole('form', { name: 'Analysis provider of development' })).toHaveCount(0);
  });

  // Back to the router's figures for the specs after this one.
  await form.getByLabel('Figures from').selectOption('router');
  await form.getByRole('button', { name: 'Save analysis provider' }).click();
  await expect(form.getByRole('status')).toHaveText(
    "Saved: canary analysis reads the traffic provider's own figures (router)",
  );
  expect((await stored()).provider).toBe('router');
});
