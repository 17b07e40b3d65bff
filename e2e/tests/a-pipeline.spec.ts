import { expect, type Page, test } from '@playwright/test';
import {
  APP,
  type AuditEntryView,
  card,
  type DeploymentView,
  type EnvironmentView,
  expectNoReload,
  finished,
  freshRelease,
  liveIndicator,
  markDocument,
  screenshot,
  settle,
  signIn,
} from './support/qubot';
import { expectTimeline } from './support/timeline';

// One release's journey through the pipeline, each step through the dashboard and checked against
// the stored state: deploy to development, promote to staging, promote to production with a
// manual blue-green switch, roll production back. Later steps build on earlier ones.
test.describe.configure({ mode: 'serial' });
test.use({ viewport: { width: 1280, height: 800 } });

const ENVS = ['development', 'staging', 'production'];
/** The release this file ships, and what production ran before it. */
let version = '';
let productionBefore: EnvironmentView;

const postTo = (page: Page, path: string) =>
  page.waitForResponse((r) => r.request().method() === 'POST' && new URL(r.url()).pathname === path);

const trafficList = (page: Page, env: string) =>
  card(page, env).getByRole('list', { name: `Traffic split in ${env}` });

test('[PIPELINE]: the dashboard shows the three environments of qubot-one in order', async ({ page }) => {
  test.setTimeout(180_000);
  const api = await signIn(page, 'release-manager');
  // The demo start deploys 1.0.0 everywhere once the server is up; and other spec files may run first.
  const envs = await settle(api);
  expect(envs.map((e) => e.name)).toEqual(ENVS);
  version = await freshRelease(api, envs);
  productionBefore = envs.find((e) => e.name === 'production')!;

  await page.goto('/');
  for (const env of envs) {
    const region = card(page, env.name);
    await expect(region).toBeVisible();
    await expect(region).toContainText(`Live ${env.live!.version}`);
  }
  const headings = await page
    .getByRole('region', { name: /^Environment / })
    .getByRole('heading', { level: 2 })
    .allTextContents();
  expect(headings.map((h) => h.trim().split(/\s/)[0])).toEqual(ENVS);
  await expect(card(page, 'production')).toContainText(/protected/i);
});

test('[PIPELINE]: a deployer deploys a release to development from the releases page and watches it succeed without a reload', async ({
  page,
}) => {
  const api = await signIn(page, 'deployer');
  await page.goto('/releases');
  await markDocument(page);
  await expect(liveIndicator(page)).toBeVisible();

  await page.getByRole('link', { name: version, exact: true }).click();
  const form = page.getByRole('form', { name: `Deploy ${version}` });
  await form.getByLabel('Environment').selectOption('development');
  await form.getByLabel('Strategy').selectOption('blue-green');
  await form.getByLabel('Reason (optional)').fill(`e2e: ship ${version}`);
  const created = postTo(page, `/api/v1/apps/${APP}/environments/development/deployments`);
  await form.getByRole('button', { name: 'Deploy to development' }).click();
  const response = await created;
  expect(response.status()).toBe(202);
  const { id } = (await response.json()) as DeploymentView;

  await form.getByRole('link', { name: 'Follow it' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(`Deployment of ${version} to development`);
  await expect(page.getByRole('status', { name: 'Deployment status' })).toHaveText('Succeeded', {
    timeout: 60_000,
  });
  const stored = await finished(api, id);
  expect(stored).toMatchObject({ status: 'succeeded', strategy: 'blue-green', release: { version } });
  await expectTimeline(page, stored.steps);

  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Pipeline' }).click();
  await expect(card(page, 'development')).toContainText(`Live ${version}`);
  const dev = await api.environment('development');
  expect(dev.live?.version).toBe(version);
  expect(dev.traffic).toContainEqual({ pool: dev.activeColor, version, weight: 100 });
  await expect(trafficList(page, 'development')).toHaveText(`${dev.activeColor} ${version} 100 %`);
  await expectNoReload(page);
});

test('[PIPELINE]: a release manager promotes it to staging from the pipeline card', async ({ page }) => {
  const api = await signIn(page, 'release-manager');
  await page.goto('/');
  await markDocument(page);
  const staging = card(page, 'staging');
  await staging.getByRole('button', { name: 'Promote →' }).click();

  const preview = page.getByRole('dialog', { name: 'Promote to staging: what would ship' });
  await expect(preview).toContainText(`From development${version}`);
  await preview.getByRole('button', { name: 'Continue' }).click();
  const confirm = page.getByRole('dialog', { name: 'Promote to staging?' });
  await confirm.getByLabel('Strategy').selectOption('blue-green');
  await confirm.getByLabel('Reason (optional)').fill(`e2e: promote ${version}`);
  const promoted = postTo(page, `/api/v1/apps/${APP}/environments/staging/promote`);
  await confirm.getByRole('button', { name: 'Promote', exact: true }).click();
  const response = await promoted;
  expect(response.status()).toBe(202);
  const { id } = (await response.json()) as DeploymentView;

  await expect(confirm).toBeHidden();
  await expect(staging.getByRole('status')).toContainText('Promotion to staging started.');
  await expect(staging).toContainText(`Live ${version}`, { timeout: 60_000 });
  await expect(staging).toContainText('No active deployment');
  const stored = await finished(api, id);
  expect(stored).toMatchObject({ status: 'succeeded', kind: 'promote', release: { version } });
  expect((await api.environment('staging')).live?.version).toBe(version);
  await expectNoReload(page);
});

test('[PIPELINE]: promoting to protected production waits for a manual switch, and the traffic bar flips', async ({
  page,
}, testInfo) => {
  const api = await signIn(page, 'release-manager');
  const before = await api.environment('production');
  const from = before.activeColor!;
  const to = from === 'blue' ? 'green' : 'blue';
  const previous = before.live!.version;

  await page.goto('/');
  await markDocument(page);
  const production = card(page, 'production');
  await production.getByRole('button', { name: 'Promote →' }).click();
  const preview = page.getByRole('dialog', { name: 'Promote to production: what would ship' });
  await expect(preview).toContainText(`From staging${version}`);
  await preview.getByRole('button', { name: 'Continue' }).click();
  const confirm = page.getByRole('dialog', { name: 'Promote to production?' });
  // Protected: the reason is required, and the button stays disabled without it.
  await expect(confirm.getByRole('button', { name: 'Promote', exact: true })).toBeDisabled();
  await confirm.getByLabel('Reason', { exact: true }).fill(`e2e: release ${version} to production`);
  const promoted = postTo(page, `/api/v1/apps/${APP}/environments/production/promote`);
  await confirm.getByRole('button', { name: 'Promote', exact: true }).click();
  const response = await promoted;
  expect(response.status()).toBe(202);
  const { id } = (await response.json()) as DeploymentView;

  // autoSwitch is off on protected environments: the new colour warms up, then waits for a person.
  const active = production.getByRole('region', { name: 'Active deployment' });
  await expect(active).toContainText('Waiting for traffic switch', { timeout: 60_000 });
  await expect(active).toContainText(`blue-green of ${version}`);
  const waiting = await api.deployment(id);
  expect(waiting).toMatchObject({ status: 'paused', waitingFor: 'switch' });
  await expect(trafficList(page, 'production')).toHaveText(`${from} ${previous} 100 %`);
  expect((await api.environment('production')).activeColor).toBe(from);
  await screenshot(page, testInfo, 'pipeline-waiting-for-switch');

  await production.getByRole('button', { name: 'Switch traffic' }).click();
  const dialog = page.getByRole('dialog', { name: 'Switch traffic in production?' });
  await expect(dialog).toContainText(`All new requests will go to ${to} running ${version}`);
  await dialog.getByLabel('Reason').fill(`e2e: switch production to ${version}`);
  const switched = postTo(page, `/api/v1/apps/${APP}/environments/production/traffic`);
  await dialog.getByRole('button', { name: `Switch to ${to}` }).click();
  expect((await switched).status()).toBe(202);

  await expect(trafficList(page, 'production')).toHaveText(`${to} ${version} 100 %`);
  await expect(production).toContainText(`Live ${version}`);
  await expect(production).toContainText('No active deployment');
  const stored = await finished(api, id);
  expect(stored).toMatchObject({ status: 'succeeded', kind: 'promote', waitingFor: null });
  const after = await api.environment('production');
  expect(after).toMatchObject({ activeColor: to, live: { version }, previous: { version: previous } });
  expect(after.traffic).toContainEqual({ pool: to, version, weight: 100 });
  expect(after.traffic).toContainEqual({ pool: from, version: previous, weight: 0 });
  await expectNoReload(page);
});

test('[PIPELINE]: rolling production back with a reason returns the previous release and is in the audit log', async ({
  page,
}) => {
  const api = await signIn(page, 'release-manager');
  const before = await api.environment('production');
  expect(before.live?.version).toBe(version);
  const previous = productionBefore.live!.version;
  const reason = `e2e: ${version} misbehaves in production (run ${Math.random().toString(36).slice(2, 8)})`;

  await page.goto('/');
  const production = card(page, 'production');
  await production.getByRole('button', { name: 'Rollback' }).click();
  const dialog = page.getByRole('dialog', { name: 'Roll back production?' });
  await expect(dialog).toContainText(`Return production from ${version} to ${previous}.`);
  await dialog.getByLabel('Reason').fill(reason);
  const rolledBack = postTo(page, `/api/v1/apps/${APP}/environments/production/rollback`);
  await dialog.getByRole('button', { name: 'Roll back' }).click();
  const response = await rolledBack;
  expect([200, 202]).toContain(response.status());
  const { id } = (await response.json()) as DeploymentView;

  await expect(production).toContainText(`Live ${previous}`, { timeout: 60_000 });
  await expect(trafficList(page, 'production')).toHaveText(
    `${productionBefore.activeColor} ${previous} 100 %`,
  );
  await expect(production).toContainText('No active deployment');
  const stored = await finished(api, id);
  expect(stored).toMatchObject({
    status: 'succeeded',
    kind: 'rollback',
    reason,
    release: { version: previous },
  });
  expect((await api.environment('production')).live?.version).toBe(previous);

  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Audit' }).click();
  const filters = page.getByRole('form', { name: 'Filter audit log' });
  await filters.getByLabel('Action').selectOption('environment.rollback');
  await filters.getByRole('button', { name: 'Apply' }).click();
  await expect(page).toHaveURL(/action=environment.rollback/);
  const row = page.getByRole('row').filter({ hasText: reason });
  await expect(row).toHaveCount(1);
  await expect(row).toContainText('release-manager');
  await expect(row).toContainText('environment.rollback');
  await expect(row).toContainText(`${APP}/production`);

  const audit = await api.get<{ items: AuditEntryView[] }>('/audit?action=environment.rollback');
  expect(audit.items).toContainEqual(
    expect.objectContaining({ action: 'environment.rollback', actor: 'release-manager', reason }),
  );
});
