// Promotion policies from the dashboard, against the real server (its worker runs the policies):
// an admin makes development and (protected) production automatic on the environment pages; a
// release with passing tests is deployed to development by the policy; production's card says
// when it will promote ("Promotes 2.0.0 at 14:05 if still healthy (requests approval)"); one click
// pauses and resumes it; with the soak over, production's deployment waits for approval. Its own
// application, qubot-pol, so no other spec is disturbed.
import { expect, type Page, test } from '@playwright/test';
import type { Deployment, EnvironmentPolicy } from '@qubot/api-contract';
import { abortAndWait, csrfOf, waitForStatus } from './dashboard-helpers';
import { type Api, screenshot, signIn } from './support/qubot';

const APP = 'qubot-pol';
const LAUNCHER =
  'node --import tsx apps/qubot-one/src/main.ts --artifact {artifact} --port {port} --pool {pool}';

test.setTimeout(180_000);

const policies = async (api: Api) =>
  (await api.api.call('GET /api/v1/apps/:app/policies', { params: { app: APP } }))
    .items as EnvironmentPolicy[];
const policyOf = async (api: Api, env: string) =>
  (await policies(api)).find((p) => p.environment === env) as EnvironmentPolicy;

async function deploymentsOf(api: Api, env: string): Promise<Deployment[]> {
  return (await api.api.call('GET /api/v1/deployments', { query: { app: APP, env } })).items;
}

/** The newest deployment in `env` once it was started by `actor`. */
async function startedBy(api: Api, env: string, actor: string): Promise<Deployment> {
  let found: Deployment | undefined;
  await expect
    .poll(
      async () => {
        found = (await deploymentsOf(api, env))[0];
        return found?.actor ?? null;
      },
      { timeout: 30_000 },
    )
    .toBe(actor);
  return found as Deployment;
}

async function savePolicy(
  page: Page,
  env: string,
  change: { mode?: string; soakMinutes?: string; reason?: string },
) {
  await page.goto(`/apps/${APP}/environments/${env}`);
  const form = page.getByRole('form', { name: `Promotion policy of ${env}` });
  if (change.mode) await form.getByLabel('Mode').selectOption(change.mode);
  if (change.soakMinutes !== undefined) await form.getByLabel('Soak time (minutes)').fill(change.soakMinutes);
  if (change.reason) await form.getByLabel(/^Reason/).fill(change.reason);
  await form.getByRole('button', { name: 'Save policy' }).click();
  await expect(form.getByRole('status')).toHaveText('Policy saved.');
}

test('[POLICY]: automatic deployment and promotion set up, shown and paused from the dashboard', async ({
  page,
  browser,
}, testInfo) => {
  const admin = await signIn(page, 'admin');
  await admin.send(
    'POST /api/v1/apps',
    {
      body: {
        name: APP,
        description: 'Promotion policy end-to-end test',
        launcher: LAUNCHER,
        launcherCwd: '.',
        environments: [
          { name: 'development', replicas: 1 },
          { name: 'production', protected: true, replicas: 1 },
        ],
      },
    },
    [201],
  );
  try {
    // The admin sets both policies on the environment pages.
    await savePolicy(page, 'development', { mode: 'auto' });
    await savePolicy(page, 'production', { mode: 'auto', soakMinutes: '60', reason: 'policy e2e' });
    expect((await policyOf(admin, 'production')).policy).toMatchObject({
      mode: 'auto',
      soakSeconds: 3600,
      requestsApproval: true,
      updatedBy: 'admin',
    });
    const audit = await admin.get<{ items: { action: string; reason: string | null; target: string }[] }>(
      `/audit?action=policy.update&app=${APP}`,
    );
    expect(audit.items.map((a) => a.target).sort()).toEqual([`${APP}/development`, `${APP}/production`]);

    // CI registers a release whose tests passed: development's policy deploys it.
    await page.goto(`/apps/${APP}`);
    await admin.send('POST /api/v1/apps/:app/releases', {
      params: { app: APP },
      body: { version: '2.0.0', artifact: 'qubot-one/healthy', testResults: { passed: 12, failed: 0 } },
    });
    const dev = await startedBy(admin, 'development', 'policy:development');
    await waitForStatus(admin, dev.id, ['succeeded']);

    // Production's card: when the soak ends, in the viewer's time, and that it only requests.
    const card = page.getByRole('region', { name: 'Environment production' });
    const line = card.getByTestId('policy-next-production');
    await expect(line).toHaveText(/^Promotes 2\.0\.0 at \d\d:\d\d if still healthy \(requests approval\)$/);
    const planned = await policyOf(admin, 'production');
    expect(planned.next).toMatchObject({ state: 'scheduled', action: 'promote', version: '2.0.0' });
    const expectedClock = await page.evaluate(
      (iso) =>
        new Intl.DateTimeFormat('en-GB', { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(
          new Date(iso),
        ),
      planned.next.at as string,
    );
    await expect(line).toContainText(`at ${expectedClock}`);
    await screenshot(page, testInfo, 'policy-card');

    // A viewer sees it but may not pause it.
    const other = await browser.newContext();
    try {
      const viewer = await other.newPage();
      await signIn(viewer, 'viewer');
      await viewer.goto(`/apps/${APP}`);
      const vcard = viewer.getByRole('region', { name: 'Environment production' });
      await expect(vcard.getByTestId('policy-next-production')).toContainText('Promotes 2.0.0');
      await expect(vcard.getByRole('button', { name: 'Pause policy' })).toBeDisabled();
      await viewer.goto(`/apps/${APP}/environments/production`);
      await expect(
        viewer.getByRole('form', { name: 'Promotion policy of production' }).getByLabel('Mode'),
      ).toBeDisabled();
    } finally {
      await other.close();
    }

    // One click pauses it (audited), one click resumes it.
    await card.getByRole('button', { name: 'Pause policy' }).click();
    await expect(line).toHaveText('Paused by admin: nothing happens automatically');
    expect((await policyOf(admin, 'production')).policy.paused).toBe(true);
    const paused = await admin.get<{ items: { actor: string; target: string }[] }>(
      `/audit?action=policy.pause&app=${APP}`,
    );
    expect(paused.items[0]).toMatchObject({ actor: 'admin', target: `${APP}/production` });
    await card.getByRole('button', { name: 'Resume policy' }).click();
    await expect(line).toContainText('Promotes 2.0.0 at');

    // The soak shortened to nothing: the policy requests production, which waits for approval.
    await savePolicy(page, 'production', { soakMinutes: '0', reason: 'policy e2e: now' });
    const prod = await startedBy(admin, 'production', 'policy:production');
    const waiting = await waitForStatus(admin, prod.id, ['paused'], 'approval');
    expect(waiting.release.version).toBe('2.0.0');
    await page.goto(`/apps/${APP}`);
    await expect(page.getByRole('region', { name: 'Environment production' })).toContainText(/approval/i);
  } finally {
    for (const env of ['development', 'production']) {
      await page.request.put(`/api/v1/apps/${APP}/environments/${env}/policy`, {
        data: { mode: 'manual', reason: 'policy e2e: clean up' },
        headers: { 'x-csrf-token': await csrfOf(page) },
      });
      const state = await admin.api.call('GET /api/v1/apps/:app/environments/:env', {
        params: { app: APP, env },
      });
      if (state.activeDeployment) await abortAndWait(admin, state.activeDeployment.id);
    }
  }
});
