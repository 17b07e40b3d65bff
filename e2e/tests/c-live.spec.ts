import { expect, test } from '@playwright/test';
import {
  APP,
  card,
  type DeploymentView,
  finished,
  HEALTHY_RELEASES,
  liveIndicator,
  settle,
  signIn,
} from './support/qubot';

/** DESIGN §5: the dashboard does not poll; another person's action shows up at once. */
const WITHIN = { timeout: 1500 };
const ENV = 'development';

test("[LIVE]: a release manager's deployment and traffic switch appear on a viewer's dashboard within 1.5 s", async ({
  browser,
}) => {
  const managerContext = await browser.newContext();
  const viewerContext = await browser.newContext();
  try {
    const manager = await signIn(managerContext, 'release-manager');
    await signIn(viewerContext, 'viewer');
    const before = (await settle(manager)).find((e) => e.name === ENV)!;
    const version = HEALTHY_RELEASES.find((v) => v !== before.live?.version)!;
    const fromColor = before.activeColor!;

    const viewer = await viewerContext.newPage();
    await viewer.goto('/');
    await expect(liveIndicator(viewer)).toBeVisible();
    const viewerCard = card(viewer, ENV);
    await expect(viewerCard).toContainText(`Live ${before.live!.version}`);
    await expect(viewerCard).toContainText('No active deployment');

    // 1. A deployment started in the manager's browser.
    const page = await managerContext.newPage();
    // A deep link: the version's dots must not make the server take it for a file.
    await page.goto(`/apps/${APP}/releases/${version}`);
    await expect(liveIndicator(page)).toBeVisible();
    const form = page.getByRole('form', { name: `Deploy ${version}` });
    await form.getByLabel('Environment').selectOption(ENV);
    const created = page.waitForResponse(
      (r) => r.request().method() === 'POST' && r.url().endsWith(`/environments/${ENV}/deployments`),
    );
    await form.getByRole('button', { name: `Deploy to ${ENV}` }).click();
    const response = await created;
    expect(response.status()).toBe(202);
    const { id } = (await response.json()) as DeploymentView;
    await expect(viewerCard.getByRole('region', { name: 'Active deployment' })).toContainText(
      `blue-green of ${version}`,
      WITHIN,
    );

    // 2. Its end, as soon as the server has stored it.
    const stored = await finished(manager, id);
    expect(stored.status).toBe('succeeded');
    await expect(viewerCard).toContainText(`Live ${version}`, WITHIN);
    await expect(viewerCard).toContainText('No active deployment', WITHIN);
    const toColor = (await manager.environment(ENV)).activeColor!;
    expect(toColor).not.toBe(fromColor);

    // 3. A traffic switch back to the warm colour, from the manager's pipeline card.
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Pipeline' }).click();
    await card(page, ENV).getByRole('button', { name: 'Switch traffic' }).click();
    const dialog = page.getByRole('dialog', { name: `Switch traffic in ${ENV}?` });
    await dialog.getByLabel('Reason').fill('e2e: live update check');
    const switched = page.waitForResponse(
      (r) => r.request().method() === 'POST' && r.url().endsWith(`/environments/${ENV}/traffic`),
    );
    await dialog.getByRole('button', { name: `Switch to ${fromColor}` }).click();
    expect((await switched).status()).toBe(200);
    await expect(viewerCard.getByRole('list', { name: `Traffic split in ${ENV}` })).toHaveText(
      `${fromColor} ${before.live!.version} 100 %`,
      WITHIN,
    );
    const after = await manager.environment(ENV);
    expect(after.activeColor).toBe(fromColor);
    expect(after.traffic).toContainEqual({ pool: fromColor, version: before.live!.version, weight: 100 });
    expect(after.activeDeployment).toBeNull();
  } finally {
    await managerContext.close();
    await viewerContext.close();
  }
});
