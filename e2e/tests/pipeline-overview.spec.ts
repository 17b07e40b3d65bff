import { expect, test } from '@playwright/test';

test('[PIPELINE]: the dashboard shows the three environments of qubot-one in order', async ({
  page,
  request,
}) => {
  await page.goto('/');
  const envs = ['development', 'staging', 'production'];
  for (const name of envs) {
    await expect(page.getByRole('region', { name: `Environment ${name}` })).toBeVisible();
  }
  // The cards follow the pipeline order the API reports.
  const api = await request.get('/api/v1/apps/qubot-one/environments');
  expect(api.status()).toBe(200);
  const items = (await api.json()).items as { name: string }[];
  expect(items.map((e) => e.name)).toEqual(envs);
  const headings = await page
    .getByRole('region', { name: /^Environment / })
    .getByRole('heading', { level: 2 })
    .allTextContents();
  expect(headings.map((h) => h.trim().split(/\s/)[0])).toEqual(envs);
  await expect(page.getByRole('region', { name: 'Environment production' })).toContainText(/protected/i);
});
