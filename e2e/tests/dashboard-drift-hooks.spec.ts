import { expect, test } from '@playwright/test';
import { DASH, dashEnvironment, ensureDashApp, waitForStatus } from './dashboard-helpers';
import { type Api, card, signIn } from './support/qubot';

// Configuration drift and deployment hooks (docs/configuration.md "Drift", docs/hooks.md), on the
// dashboard's own application so the qubot-one specs are not disturbed.
test.setTimeout(150_000);

/** The demo's job launcher (apps/api/src/demo.ts DEMO_JOB_LAUNCHER). */
const JOB_LAUNCHER =
  'node --import tsx apps/qubot-one/src/job.ts {job} --version {version} --environment {environment}';

/**
 * Runs `fn` on a deployment of the next version of the dashboard app's development environment
 * with `job` as its pre-deployment hook; afterwards checks nothing moved (the hook stopped it) and
 * removes the hook.
 */
async function withPreHook(
  admin: Api,
  pre: { job: string; timeoutSeconds: number },
  reason: string,
  fn: (deploymentId: string) => Promise<void>,
): Promise<void> {
  await ensureDashApp(admin);
  await admin.send('PUT /api/v1/apps/:app/job-launcher', {
    params: { app: DASH },
    body: { jobLauncher: JOB_LAUNCHER },
  });
  await admin.send('PUT /api/v1/apps/:app/environments/:env/hooks', {
    params: { app: DASH, env: 'development' },
    body: { pre, post: null },
  });
  try {
    const live = (await dashEnvironment(admin, 'development')).live?.version;
    const version = live === '1.1.0' ? '1.2.0' : '1.1.0';
    const d = await admin.send('POST /api/v1/apps/:app/environments/:env/deployments', {
      params: { app: DASH, env: 'development' },
      body: { version, strategy: 'blue-green', reason },
    });
    await fn(d.id);
    expect((await waitForStatus(admin, d.id, ['succeeded', 'failed', 'rolled_back', 'aborted'])).status).toBe(
      'failed',
    );
    // Nothing moved: the environment still serves what it served.
    expect((await dashEnvironment(admin, 'development')).live?.version).toBe(live);
  } finally {
    await admin.send('PUT /api/v1/apps/:app/environments/:env/hooks', {
      params: { app: DASH, env: 'development' },
      body: { pre: null, post: null },
    });
  }
}

test('[DRIFT]: a configuration change shows drift on the card; "Roll out configuration" clears it', async ({
  page,
}) => {
  const admin = await signIn(page, 'admin');
  await ensureDashApp(admin);
  const before = await dashEnvironment(admin, 'development');
  expect(before.config?.drift).toBe(false);
  const written = await admin.send('PUT /api/v1/apps/:app/environments/:env/config', {
    params: { app: DASH, env: 'development' },
    body: { entries: [{ key: 'E2E_GREETING', value: `hello ${Date.now()}` }] },
  });

  await page.goto(`/apps/${DASH}`);
  const dev = card(page, 'development');
  await expect(dev.getByRole('status', { name: 'Configuration drift in development' })).toContainText(
    'drift: 1 instance runs an older configuration',
  );
  await dev.getByRole('button', { name: 'Roll out configuration' }).click();
  const dialog = page.getByRole('dialog', {
    name: `Roll out configuration version ${written.version} to development?`,
  });
  const created = page.waitForResponse((r) => r.url().endsWith('/environments/development/config/rollout'));
  await dialog.getByRole('button', { name: 'Roll out' }).click();
  const response = await created;
  expect(response.status()).toBe(202);
  const d = (await response.json()) as { id: string; release: { version: string }; configVersion: number };
  expect(d).toMatchObject({ release: { version: before.live?.version }, configVersion: written.version });
  expect((await waitForStatus(admin, d.id, ['succeeded', 'failed', 'rolled_back', 'aborted'])).status).toBe(
    'succeeded',
  );
  // The card follows the live events: no drift, in sync — on screen and in the stored state.
  await expect(dev.getByRole('status', { name: 'Configuration drift in development' })).toHaveCount(0);
  await expect(dev.getByText('in sync')).toBeVisible();
  const after = await dashEnvironment(admin, 'development');
  expect(after.config).toMatchObject({ version: written.version, drift: false });
  const audit = await admin.get<{ items: { action: string }[] }>(`/audit?action=config.rollout&app=${DASH}`);
  expect(audit.items.length).toBeGreaterThan(0);
});

test('[HOOKS]: a failing pre-deployment hook stops the deployment and is shown on its page', async ({
  page,
}) => {
  const admin = await signIn(page, 'admin');
  await withPreHook(admin, { job: 'fail', timeoutSeconds: 30 }, 'e2e: failing hook', async (id) => {
    expect((await waitForStatus(admin, id, ['succeeded', 'failed', 'rolled_back', 'aborted'])).status).toBe(
      'failed',
    );
    await page.goto(`/deployments/${id}`);
    const hooks = page.getByRole('region', { name: 'Hooks' });
    await expect(hooks.getByText('Pre-deployment hook fail', { exact: true })).toBeVisible();
    await expect(hooks.getByText('failed', { exact: true })).toBeVisible();
    await expect(hooks.getByText('exit 1')).toBeVisible();
    await expect(hooks.getByLabel('Output of the pre-deployment hook fail')).toContainText(
      'relation already exists',
    );
    await expect(
      page.getByRole('region', { name: 'Steps' }).getByText('Pre-deployment hook: fail'),
    ).toBeVisible();
  });
});

test("[HOOKS]: a running hook's output appears line by line on the deployment page, live", async ({
  page,
}) => {
  const admin = await signIn(page, 'admin');
  // `wait` without a file to wait for says "still waiting (n s)" once a second until its timeout.
  await withPreHook(admin, { job: 'wait', timeoutSeconds: 20 }, 'e2e: live hook output', async (id) => {
    await page.goto(`/deployments/${id}`);
    const hooks = page.getByRole('region', { name: 'Hooks' });
    const output = hooks.getByLabel('Output of the pre-deployment hook wait');
    await expect(output).toContainText('waiting for');
    await expect(hooks.getByText('(live)')).toBeVisible();
    // Lines written after the page loaded arrive while the run is still running (nothing else
    // about the deployment changes meanwhile, so nothing else would make the page read them).
    await expect(output).toContainText('still waiting (3 s)');
    await expect(hooks.getByText('running', { exact: true })).toBeVisible();
    // At its timeout the run ends: the page learns it from the event stream, closes the stream
    // and shows the whole output once more.
    await expect(hooks.getByText('timed out', { exact: true })).toBeVisible({ timeout: 40_000 });
    await expect(hooks.getByText('(live)')).toHaveCount(0);
    await expect(output).toContainText('still waiting (3 s)');
  });
});
