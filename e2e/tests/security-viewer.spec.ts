import { expect, test } from '@playwright/test';
import {
  APP,
  type Api,
  abortActive,
  apiSession,
  DEMO,
  ensureSecApp,
  expectStatus,
  servingVersion,
  signIn,
  waitForDeployment,
} from './security-helpers';

let admin: Api & { dispose(): Promise<void> };
// A deployment waiting for approval in production, so the deployment page has live controls.
let waitingId = '';
test.beforeAll(async ({ playwright }, testInfo) => {
  testInfo.setTimeout(150_000);
  admin = await apiSession(playwright.request, testInfo, DEMO.admin);
  const rm = await apiSession(playwright.request, testInfo, DEMO['release-manager']);
  await ensureSecApp(admin, rm);
  await rm.dispose();
  await abortActive(admin, 'production');
  const live = servingVersion(await admin.environment('production'));
  const res = await expectStatus(
    await admin.post(`/api/v1/apps/${APP}/environments/production/deployments`, {
      version: live === '1.2.0' ? '1.1.0' : '1.2.0',
      strategy: 'blue-green',
      reason: 'viewer e2e: waits for approval',
      // Not promoted through staging: an admin's audited override of the promotion order.
      override: true,
    }),
    202,
  );
  waitingId = (await res.json()).id;
  await waitForDeployment(admin, waitingId, 'paused', 'approval');
});
test.afterAll(async () => {
  if (admin) await abortActive(admin, 'production');
  await admin?.dispose();
});

test('[SECURITY]: a viewer sees no enabled action on the pipeline and deployment pages, and the API answers 403', async ({
  context,
  page,
}) => {
  test.setTimeout(60_000);
  await signIn(context, DEMO.viewer);
  const developmentBefore = await admin.deployments('development');

  // Pipeline: every action button of every environment is disabled.
  await page.goto(`/apps/${APP}`);
  // Once the role is known (header), not merely before it loads.
  await expect(page.getByRole('banner')).toContainText('viewer');
  const cards = page.getByRole('region', { name: /^Environment / });
  await expect(cards).toHaveCount(2);
  const pipelineButtons = cards.getByRole('button');
  await expect(pipelineButtons).not.toHaveCount(0);
  for (const button of await pipelineButtons.all()) await expect(button).toBeDisabled();
  await expect(
    page.getByRole('region', { name: 'Environment production' }).getByRole('button', { name: 'Promote →' }),
  ).toHaveAttribute('title', 'Needs release-manager (you are viewer).');

  // Deployment page of the paused deployment: controls disabled, no Approve at all.
  await page.goto(`/deployments/${waitingId}`);
  await expect(page.getByText('Waiting for approval').first()).toBeVisible();
  const controls = page.getByRole('region', { name: 'Controls' });
  await expect(controls.getByRole('button')).not.toHaveCount(0);
  for (const button of await controls.getByRole('button').all()) await expect(button).toBeDisabled();
  await expect(controls.getByRole('button', { name: 'Approve' })).toHaveCount(0);
  await expect(controls).toContainText('Waiting for a release-manager or admin other than admin to approve.');

  // Release page: nothing to deploy with.
  await page.goto(`/apps/${APP}/releases/1.1.0`);
  await expect(page.getByRole('button', { name: /^Deploy to / })).toBeDisabled();

  // The API answers 403 to the viewer's own session, sent exactly as the web app sends it
  // (cookie + X-CSRF-Token from the qubot_csrf cookie).
  const answers = await page.evaluate(
    async ({ app, id }) => {
      const csrf = decodeURIComponent(document.cookie.match(/(?:^|; )qubot_csrf=([^;]*)/)?.[1] ?? '');
      const post = async (url: string, body: unknown) => {
        const res = await fetch(url, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrf },
          body: JSON.stringify(body),
        });
        return { status: res.status, body: await res.json() };
      };
      return {
        csrfFound: csrf.length > 0,
        deploy: await post(`/api/v1/apps/${app}/environments/development/deployments`, {
          version: '1.1.0',
          strategy: 'rolling',
        }),
        approve: await post(`/api/v1/deployments/${id}/approve`, {}),
        abort: await post(`/api/v1/deployments/${id}/abort`, { reason: 'viewer' }),
      };
    },
    { app: APP, id: waitingId },
  );
  expect(answers.csrfFound).toBe(true);
  expect(answers.deploy.status).toBe(403);
  expect(answers.deploy.body.error.message).toBe(
    'forbidden: needs deployer to deploy to environment development',
  );
  expect(answers.approve.status).toBe(403);
  expect(answers.approve.body.error.message).toMatch(
    /^forbidden: needs release-manager to approve deployments/,
  );
  expect(answers.abort.status).toBe(403);

  // Stored state: nothing moved.
  expect((await admin.deployment(waitingId)).status).toBe('paused');
  expect((await admin.deployment(waitingId)).waitingFor).toBe('approval');
  expect((await admin.deployments('development')).map((d) => d.id)).toEqual(
    developmentBefore.map((d) => d.id),
  );
});
