import { expect, test } from '@playwright/test';
import {
  APP,
  type Api,
  apiSession,
  DEMO,
  ensureSecApp,
  expectStatus,
  servingVersion,
  signIn,
  waitForDeployment,
} from './security-helpers';

let admin: Api & { dispose(): Promise<void> };
test.beforeAll(async ({ playwright }, testInfo) => {
  testInfo.setTimeout(150_000);
  admin = await apiSession(playwright.request, testInfo, DEMO.admin);
  const rm = await apiSession(playwright.request, testInfo, DEMO['release-manager']);
  await ensureSecApp(admin, rm);
  await rm.dispose();
});
test.afterAll(async () => {
  await admin?.dispose();
});

test('[SECURITY]: a deployer can deploy to development, but production’s actions are disabled and the API answers 403 naming the permission', async ({
  context,
  page,
}) => {
  test.setTimeout(90_000);
  const deployer = await signIn(context, DEMO.deployer);
  const dev = await admin.environment('development');
  const version = servingVersion(dev) === '1.2.0' ? '1.1.0' : '1.2.0';
  const productionBefore = await admin.deployments('production');

  // Pipeline: every production action is disabled, with the role it needs.
  await page.goto(`/apps/${APP}`);
  const production = page.getByRole('region', { name: 'Environment production' });
  await expect(production).toBeVisible();
  for (const name of ['Promote →', 'Switch traffic', 'Rollback']) {
    const button = production.getByRole('button', { name });
    await expect(button).toBeDisabled();
  }
  await expect(production.getByRole('button', { name: 'Rollback' })).toHaveAttribute(
    'title',
    /Needs release-manager \(you are deployer\)/,
  );

  // Release page: production cannot be chosen; development can, and the deploy goes through.
  await page.goto(`/apps/${APP}/releases/${version}`);
  const environment = page.getByLabel('Environment');
  await expect(environment.getByRole('option', { name: /^production/ })).toBeDisabled();
  await environment.selectOption('development');
  await page.getByLabel('Reason (optional)').fill('deployer e2e');
  await page.getByRole('button', { name: 'Deploy to development' }).click();
  await page.getByRole('link', { name: 'Follow it' }).click();
  await expect(page).toHaveURL(/\/deployments\/[0-9a-f-]{36}$/);
  const id = page.url().split('/').pop() as string;
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(`Deployment of ${version} to development`);
  const done = await waitForDeployment(admin, id, 'succeeded');
  expect(done.actor).toBe('deployer');
  expect(servingVersion(await admin.environment('development'))).toBe(version);

  // The API refuses production whatever the screen shows, naming what is missing.
  const deploy = await expectStatus(
    await deployer.post(`/api/v1/apps/${APP}/environments/production/deployments`, {
      version,
      strategy: 'blue-green',
      reason: 'deployer e2e',
    }),
    403,
  );
  expect((await deploy.json()).error).toMatchObject({
    code: 'forbidden',
    message: 'forbidden: needs release-manager to deploy to protected environment production',
    details: { permission: 'deploy', required: 'release-manager' },
  });
  for (const [action, body, permission] of [
    ['promote', {}, 'promote'],
    ['traffic', { activeColor: 'green' }, 'traffic'],
    ['rollback', {}, 'rollback'],
  ] as const) {
    const res = await expectStatus(
      await deployer.post(`/api/v1/apps/${APP}/environments/production/${action}`, body),
      403,
    );
    expect((await res.json()).error.details.permission, action).toBe(permission);
  }
  // Nothing was started in production.
  expect((await admin.deployments('production')).map((d) => d.id)).toEqual(productionBefore.map((d) => d.id));
});
