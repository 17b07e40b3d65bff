import AxeBuilder from '@axe-core/playwright';
import { expect, type Page, test } from '@playwright/test';
import { APP, type DeploymentView, signIn } from './support/qubot';

/** Every page of the dashboard, desktop and phone: no serious or critical axe-core violation. */
const VIEWPORTS = [
  { name: 'desktop', width: 1280, height: 800 },
  { name: '390 px', width: 390, height: 844 },
] as const;

async function pages(page: Page): Promise<{ path: string; ready: string }[]> {
  const api = await signIn(page, 'admin');
  const deployments = await api.get<{ items: DeploymentView[] }>(`/deployments?app=${APP}&limit=1`);
  const deployment = deployments.items[0];
  return [
    { path: '/', ready: 'development' },
    { path: `/apps/${APP}/environments/development`, ready: 'Instances' },
    { path: `/apps/${APP}/environments/production`, ready: 'Instances' },
    { path: `/apps/${APP}/releases`, ready: 'Releases' },
    { path: `/apps/${APP}/releases/1.0.0`, ready: 'Deploy 1.0.0' },
    { path: '/deployments', ready: 'Deployments' },
    ...(deployment ? [{ path: `/deployments/${deployment.id}`, ready: 'Steps' }] : []),
    { path: `/apps/${APP}/dora`, ready: 'production' },
    { path: `/apps/${APP}/webhooks`, ready: 'New webhook' },
    { path: '/audit', ready: 'Audit log' },
    { path: '/settings', ready: 'Settings' },
  ];
}

async function expectNoSeriousViolations(page: Page, label: string) {
  const results = await new AxeBuilder({ page }).analyze();
  const serious = results.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
  expect(serious, `${label}: serious or critical axe violations`).toEqual([]);
}

for (const viewport of VIEWPORTS) {
  test(`[A11Y]: no serious axe violations on any page, ${viewport.name}`, async ({ browser }) => {
    test.setTimeout(360_000);
    const signedOut = await browser.newContext({ viewport });
    try {
      const login = await signedOut.newPage();
      await login.goto('/login');
      await expect(login.getByRole('button', { name: /sign in/i })).toBeVisible();
      await expectNoSeriousViolations(login, `/login at ${viewport.name}`);
    } finally {
      await signedOut.close();
    }
    const context = await browser.newContext({ viewport });
    try {
      const page = await context.newPage();
      for (const { path, ready } of await pages(page)) {
        await page.goto(path);
        await expect(page.getByRole('heading', { name: ready }).first()).toBeVisible();
        // Loading placeholders gone: the page as people use it.
        await expect(page.getByText(/^Loading/)).toHaveCount(0);
        await expectNoSeriousViolations(page, `${path} at ${viewport.name}`);
      }
    } finally {
      await context.close();
    }
  });
}
