import { expect, test } from '@playwright/test';
import { APP, type Api, signIn } from './support/qubot';

/**
 * What the figures depend on, through the API: development has a deployment that succeeded today
 * (the demo's initial release: the server is ready before the demo deploys, so on fresh data it may
 * still be running), and no deployment is pending or running anywhere — one finishing between the
 * API's answer and the page's would make them differ. A deployment left paused (waiting for a
 * person) finishes nothing, so it is not waited for.
 */
async function settledFigures(api: Api) {
  const today = new Date().toISOString().slice(0, 10); // DORA days are UTC days
  await expect
    .poll(
      async () => {
        const moving = (await api.environments())
          .filter((e) => e.activeDeployment && e.activeDeployment.status !== 'paused')
          .map((e) => `${e.name} has an active deployment`);
        const { items } = await api.api.call('GET /api/v1/deployments', {
          query: { app: APP, env: 'development', status: 'succeeded', limit: 1 },
        });
        if (items[0]?.finishedAt?.slice(0, 10) !== today) moving.push('development has no success today');
        return moving;
      },
      {
        message: 'the demo deployments finish (development succeeded today)',
        timeout: 120_000,
        intervals: [500],
      },
    )
    .toEqual([]);
}

// The DORA page shows what GET /api/v1/apps/:app/dora answers, per environment and window.
test('[DORA]: figures per environment, window switch, what the API says', async ({ page }) => {
  test.setTimeout(180_000);
  const api = await signIn(page, 'viewer');
  await settledFigures(api);
  await page.goto('/');
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'DORA' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(`DORA · ${APP}`);
  const report = await api.send('GET /api/v1/apps/:app/dora', { params: { app: APP } });
  expect(report.environments.map((e) => e.environment)).toEqual(['development', 'staging', 'production']);

  for (const days of [30, 7] as const) {
    if (days === 7) {
      // A click, then the state the page settles in: the radio is controlled by the URL, so
      // right after the click it may still show the old window until the navigation renders
      // (Playwright's check() reads it at that moment and fails).
      const seven = page.getByRole('radio', { name: '7 days' });
      await seven.click();
      await expect(page).toHaveURL(/\?days=7$/);
      await expect(seven).toBeChecked();
    }
    for (const env of report.environments) {
      const w = env.windows.find((x) => x.days === days)!;
      const section = page.getByRole('region', { name: env.environment });
      await expect(section.getByRole('definition').first()).toContainText(`(${w.current.deployments})`);
      await expect(
        section.getByRole('img', {
          name: new RegExp(`^${env.environment}: \\d+ successful and \\d+ failed`),
        }),
      ).toBeVisible();
      const bars = env.daily.slice(-days);
      const ok = bars.reduce((n, d) => n + d.succeeded, 0);
      await expect(
        section.getByRole('img', {
          name: `${env.environment}: ${ok} successful and ${bars.reduce((n, d) => n + d.failed, 0)} failed deployments over ${days} days`,
        }),
      ).toBeVisible();
    }
  }
  // The demo deployed to development today (awaited above): the report counts that success.
  const dev = report.environments[0]!;
  expect(dev.daily.at(-1)!.succeeded).toBeGreaterThan(0);
});
