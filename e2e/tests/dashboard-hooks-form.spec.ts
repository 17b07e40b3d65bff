import { expect, test } from '@playwright/test';
import { DASH, ensureDashApp } from './dashboard-helpers';
import { screenshot, signIn } from './support/qubot';

// The hooks form on the environment page (docs/hooks.md "Dashboard"): an admin adds, edits and
// removes pre/post-deployment hooks of a protected environment (with a reason); a bad job name is
// refused in the form and nothing is stored; a release manager sees the form locked.
test.setTimeout(150_000);

const hooksOf = (api: Awaited<ReturnType<typeof signIn>>) =>
  api.send('GET /api/v1/apps/:app/environments/:env/hooks', { params: { app: DASH, env: 'production' } });

test('[HOOKS]: an admin adds, edits and removes pre/post-deployment hooks from the environment page', async ({
  page,
  browser,
}, testInfo) => {
  const admin = await signIn(page, 'admin');
  await ensureDashApp(admin);
  expect(await hooksOf(admin)).toMatchObject({ pre: null, post: null });
  try {
    await page.goto(`/apps/${DASH}/environments/production`);
    const form = page.getByRole('form', { name: 'Hooks of production' });
    await form.getByRole('checkbox', { name: 'Run a pre-deployment job' }).check();
    await form.getByLabel('Pre-deployment job', { exact: true }).fill('rm -rf /');
    await form.getByRole('button', { name: 'Save hooks' }).click();
    await expect(form.getByText(/a job name, not a command/)).toBeVisible();
    expect((await hooksOf(admin)).pre).toBeNull();

    await form.getByLabel('Pre-deployment job', { exact: true }).fill('migrate');
    await form.getByLabel('Pre-deployment timeout (seconds)').fill('120');
    await form.getByRole('checkbox', { name: 'Run a post-deployment job' }).check();
    await form.getByLabel('Post-deployment job', { exact: true }).fill('smoke');
    await form.getByLabel('Post-deployment timeout (seconds)').fill('30');
    await form.getByLabel('Reason (required: protected environment)').fill('hooks e2e');
    await form.getByRole('button', { name: 'Save hooks' }).click();
    await expect(form.getByRole('status')).toHaveText(
      'Hooks saved. Deployments created from now on run them.',
    );
    await screenshot(page, testInfo, 'environment-hooks-form');
    expect(await hooksOf(admin)).toMatchObject({
      pre: { job: 'migrate', timeoutSeconds: 120 },
      post: { job: 'smoke', timeoutSeconds: 30 },
    });
    const audit = await admin.get<{ items: { reason: string | null; target: string }[] }>(
      `/audit?action=environment.hooks&app=${DASH}`,
    );
    expect(audit.items[0]).toMatchObject({ target: `${DASH}/production`, reason: 'hooks e2e' });

    // After a reload the form shows what is stored; unticking the pre hook removes it.
    await page.reload();
    await expect(form.getByLabel('Pre-deployment job', { exact: true })).toHaveValue('migrate');
    await expect(form.getByLabel('Post-deployment timeout (seconds)')).toHaveValue('30');
    await form.getByRole('checkbox', { name: 'Run a pre-deployment job' }).uncheck();
    await form.getByLabel('Reason (required: protected environment)').fill('no migration any more');
    await form.getByRole('button', { name: 'Save hooks' }).click();
    await expect(form.getByRole('status')).toHaveText(
      'Hooks saved. Deployments created from now on run them.',
    );
    expect(await hooksOf(admin)).toMatchObject({ pre: null, post: { job: 'smoke', timeoutSeconds: 30 } });

    // A release manager sees the hooks, locked.
    const other = await browser.newContext();
    try {
      const rmPage = await other.newPage();
      const rm = await signIn(rmPage, 'release-manager');
      await rmPage.goto(`/apps/${DASH}/environments/production`);
      const rmForm = rmPage.getByRole('form', { name: 'Hooks of production' });
      await expect(rmForm.getByLabel('Post-deployment job', { exact: true })).toHaveValue('smoke');
      await expect(rmForm.getByLabel('Post-deployment job', { exact: true })).toBeDisabled();
      await expect(rmForm.getByRole('button', { name: 'Save hooks' })).toBeDisabled();
      await expect(rmForm).toContainText('changing them needs admin (you are release-manager)');
      await rm.send(
        'PUT /api/v1/apps/:app/environments/:env/hooks',
        { params: { app: DASH, env: 'production' }, body: { pre: null, post: null, reason: 'denied' } },
        [403],
      );
    } finally {
      await other.close();
    }
  } finally {
    await admin.send('PUT /api/v1/apps/:app/environments/:env/hooks', {
      params: { app: DASH, env: 'production' },
      body: { pre: null, post: null, reason: 'hooks e2e: restore' },
    });
  }
});
