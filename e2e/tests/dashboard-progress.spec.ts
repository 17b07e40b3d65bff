import { expect, test } from '@playwright/test';
import {
  abortAndWait,
  DASH,
  dashEnvironment,
  deployAndWait,
  ensureDashApp,
  waitForStatus,
} from './dashboard-helpers';
import { screenshot, signIn } from './support/qubot';

// The first spec on a fresh server sets qubot-ui up (two deployments) before its own work.
test.setTimeout(150_000);

test.describe.configure({ mode: 'serial' });

test('[PROGRESS]: a canary hold counts down; card and page show step, instances and traffic', async ({
  page,
}, testInfo) => {
  const admin = await signIn(page, 'admin');
  await ensureDashApp(admin);
  const live = (await dashEnvironment(admin, 'development')).live!.version;
  const version = live === '1.1.0' ? '1.2.0' : '1.1.0';
  const d = await admin.post<{ id: string }>(`/apps/${DASH}/environments/development/deployments`, {
    version,
    strategy: 'canary',
    // No analysis: the step holds on its timer alone, whatever traffic there is.
    options: { steps: [50, 100], stepDurationSeconds: 60, analysis: { enabled: false } },
    reason: 'progress e2e',
  });
  try {
    await page.goto(`/apps/${DASH}`);
    const active = page
      .getByRole('region', { name: 'Environment development' })
      .getByRole('region', { name: 'Active deployment' });
    // The card draws the bar, numbers the step from 1 and counts down the hold.
    await expect(active.getByText(/^Step \d of \d/)).toBeVisible({ timeout: 60_000 });
    await expect(active.getByText(/holding until \d{2}:\d{2}:\d{2} · \d+ s left/)).toBeVisible({
      timeout: 60_000,
    });
    await expect(active.getByRole('progressbar', { name: /^Deployment progress \d+ %$/ })).toBeVisible();
    await expect(
      active.getByRole('progressbar', { name: `1 of 1 instances of ${version} ready` }),
    ).toBeVisible();
    await expect(active.getByRole('progressbar', { name: `50 % of traffic on ${version}` })).toBeVisible();
    await expect(active).toContainText('50 % traffic on new');
    await screenshot(page, testInfo, 'pipeline-canary-progress');
    const stored = await admin.get<{ progress: { currentStep: number; totalSteps: number } }>(
      `/deployments/${d.id}`,
    );
    await expect(active).toContainText(
      `Step ${stored.progress.currentStep + 1} of ${stored.progress.totalSteps}`,
    );

    // The countdown ticks, and the bar moves during the hold (not only when a step ends).
    const hold = active.getByText(/holding until/);
    const first = await hold.textContent();
    await expect(hold).not.toHaveText(first!, { timeout: 5_000 });
    const bar = active.getByRole('progressbar', { name: /^Deployment progress/ });
    const before = Number(await bar.getAttribute('value'));
    await expect
      .poll(async () => Number(await bar.getAttribute('value')), { timeout: 30_000 })
      .toBeGreaterThan(before);

    // The deployment page says the same, without "Running" next to a "Paused" badge.
    await page.goto(`/deployments/${d.id}`);
    const progress = page.getByRole('region', { name: 'Rollout progress' });
    await expect(progress.getByText(/holding until \d{2}:\d{2}:\d{2}/)).toBeVisible();
    await expect(page.getByRole('region', { name: 'Steps' })).not.toContainText(/\d{4}-\d{2}-\d{2}T/);
  } finally {
    await abortAndWait(admin, d.id);
  }
});

test('[PROGRESS]: waiting for a person shows who, not a percentage or a countdown', async ({ page }) => {
  const admin = await signIn(page, 'admin');
  await ensureDashApp(admin);
  const live = (await dashEnvironment(admin, 'development')).live!.version;
  const version = live === '1.1.0' ? '1.2.0' : '1.1.0';
  const d = await admin.post<{ id: string }>(`/apps/${DASH}/environments/development/deployments`, {
    version,
    strategy: 'canary',
    options: { steps: [50, 100], stepDurationSeconds: 'manual', analysis: { enabled: false } },
    reason: 'waiting e2e',
  });
  try {
    await waitForStatus(admin, d.id, ['paused'], 'advance');
    await page.goto(`/deployments/${d.id}`);
    const progress = page.getByRole('region', { name: 'Rollout progress' });
    await expect(progress).toContainText(
      'Waiting for a deployer, release-manager or admin to advance to the next step',
    );
    await expect(progress.getByRole('progressbar', { name: /^Deployment progress/ })).toHaveCount(0);
    await expect(page.getByRole('status', { name: 'Deployment status' })).toHaveText('Waiting');
    await expect(page.getByRole('region', { name: 'Steps' }).getByText('Running')).toHaveCount(0);
    await expect(page.getByText(/about \d+ s left/)).toHaveCount(0);
  } finally {
    await abortAndWait(admin, d.id);
  }
});

test('[CONFIRM]: advance on a protected environment asks for confirmation and a reason, and the audit row has it', async ({
  page,
}) => {
  const admin = await signIn(page, 'admin');
  await ensureDashApp(admin);
  const live = (await dashEnvironment(admin, 'production')).live!.version;
  const version = live === '1.1.0' ? '1.2.0' : '1.1.0';
  // Production takes what succeeded in development first.
  if ((await dashEnvironment(admin, 'development')).live?.version !== version)
    await deployAndWait(admin, 'development', version);
  // Blue-green in a protected environment waits for its switch.
  const d = await admin.post<{ id: string }>(`/apps/${DASH}/environments/production/deployments`, {
    version,
    strategy: 'blue-green',
    options: { rollbackWindowSeconds: 0 },
    reason: 'confirm e2e',
  });
  try {
    await waitForStatus(admin, d.id, ['paused'], 'switch');
    await page.goto(`/deployments/${d.id}`);
    const controls = page.getByRole('region', { name: 'Controls' });
    await controls.getByRole('button', { name: 'Advance' }).click();
    const dialog = page.getByRole('dialog', { name: 'Advance deployment?' });
    await expect(dialog).toBeVisible();
    // Nothing moved yet: the click only opened the confirmation.
    expect((await dashEnvironment(admin, 'production')).live?.version).toBe(live);
    const confirm = dialog.getByRole('button', { name: 'Advance' });
    await expect(confirm).toBeDisabled();
    await dialog.getByLabel('Reason', { exact: true }).fill('switch checked by e2e');
    await confirm.click();
    await waitForStatus(admin, d.id, ['succeeded']);
    const audit = await admin.get<{
      items: { action: string; reason: string | null; deploymentId: string | null }[];
    }>(`/audit?action=deployment.advance&app=${DASH}`);
    expect(audit.items.find((e) => e.deploymentId === d.id)?.reason).toBe('switch checked by e2e');
  } finally {
    const state = await admin.get<{ status: string }>(`/deployments/${d.id}`);
    if (['pending', 'running', 'paused'].includes(state.status)) await abortAndWait(admin, d.id);
  }
});

test('[TIME]: relative times tick', async ({ page }) => {
  const admin = await signIn(page, 'admin');
  await ensureDashApp(admin);
  await page.clock.install();
  await page.goto('/audit');
  const first = page.getByRole('table', { name: 'Audit entries' }).locator('time').first();
  await expect(first).toBeVisible();
  const before = await first.textContent();
  await page.clock.fastForward('03:30');
  await expect(first).not.toHaveText(before!);
  await expect(first).toHaveText(/minutes ago/);
});
