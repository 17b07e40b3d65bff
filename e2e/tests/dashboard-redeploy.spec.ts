import { expect, test } from '@playwright/test';
import {
  abortAndWait,
  csrfOf,
  DASH,
  dashEnvironment,
  deployAndWait,
  ensureDashApp,
  waitForStatus,
} from './dashboard-helpers';
import { signIn } from './support/qubot';

// The first spec on a fresh server sets qubot-ui up (two deployments) before its own work.
test.setTimeout(150_000);

test('[REDEPLOY]: a past deployment is deployed again from its page, same release, strategy and configuration', async ({
  page,
}) => {
  const admin = await signIn(page, 'admin');
  await ensureDashApp(admin);
  const live = (await dashEnvironment(admin, 'development')).live!.version;
  const other = live === '1.1.0' ? '1.2.0' : '1.1.0';
  // A past deployment of `live` to follow, then something else goes live.
  const past = (
    await admin.get<{
      items: {
        id: string;
        release: { version: string };
        status: string;
        strategy: string;
        configVersion: number | null;
      }[];
    }>(`/deployments?app=${DASH}&env=development&status=succeeded`)
  ).items.find((d) => d.release.version === live)!;
  await deployAndWait(admin, 'development', other);

  await page.goto(`/deployments/${past.id}`);
  await page.getByRole('region', { name: 'Redeploy' }).getByRole('button', { name: 'Redeploy…' }).click();
  const dialog = page.getByRole('dialog', { name: `Redeploy ${live} to development?` });
  const created = page.waitForResponse((r) => r.url().endsWith(`/deployments/${past.id}/redeploy`));
  await dialog.getByRole('button', { name: 'Redeploy' }).click();
  const response = await created;
  expect(response.status()).toBe(202);
  const next = (await response.json()) as {
    id: string;
    release: { version: string };
    strategy: string;
    configVersion: number | null;
  };
  expect(next).toMatchObject({
    release: { version: live },
    strategy: past.strategy,
    configVersion: past.configVersion,
  });
  await page.getByRole('link', { name: 'Follow it' }).click();
  await expect(page).toHaveURL(`/deployments/${next.id}`);
  const done = await waitForStatus(admin, next.id, ['succeeded', 'failed', 'rolled_back', 'aborted']);
  expect(done.status).toBe('succeeded');
  expect((await dashEnvironment(admin, 'development')).live?.version).toBe(live);
  const audit = await admin.get<{
    items: { action: string; deploymentId: string | null; version: string | null }[];
  }>(`/audit?action=deployment.redeploy&app=${DASH}`);
  expect(audit.items[0]).toMatchObject({ deploymentId: next.id, version: live });
});

test('[REDEPLOY]: two redeploys at once: exactly one starts, the other is refused', async ({ page }) => {
  const admin = await signIn(page, 'admin');
  await ensureDashApp(admin);
  const past = (
    await admin.get<{ items: { id: string }[] }>(`/deployments?app=${DASH}&env=development&status=succeeded`)
  ).items[0]!;
  const csrf = await csrfOf(page);
  const answers = await Promise.all(
    [1, 2].map(() =>
      page.request.post(`/api/v1/deployments/${past.id}/redeploy`, {
        data: { reason: 'race' },
        headers: { 'x-csrf-token': csrf },
      }),
    ),
  );
  const statuses = answers.map((a) => a.status()).sort();
  expect(statuses).toEqual([202, 409]);
  const winner = (await answers.find((a) => a.status() === 202)!.json()) as { id: string };
  // The state reported is the state served: the environment's active deployment is the winner.
  expect((await dashEnvironment(admin, 'development')).activeDeployment?.id).toBe(winner.id);
  await abortAndWait(admin, winner.id);
});

test('[REDEPLOY]: a viewer cannot redeploy', async ({ page }) => {
  const admin = await signIn(page, 'admin');
  await ensureDashApp(admin);
  const past = (
    await admin.get<{ items: { id: string }[] }>(`/deployments?app=${DASH}&env=development&status=succeeded`)
  ).items[0]!;
  await page.context().clearCookies();
  await signIn(page, 'viewer');
  await page.goto(`/deployments/${past.id}`);
  await expect(page.getByRole('button', { name: 'Redeploy…' })).toBeDisabled();
  const res = await page.request.post(`/api/v1/deployments/${past.id}/redeploy`, {
    data: {},
    headers: { 'x-csrf-token': await csrfOf(page) },
  });
  expect(res.status()).toBe(403);
});
