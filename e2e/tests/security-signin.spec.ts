// Anonymous visitors and the sign-in page (docs/security.md "Sign-in page"): every page sends an
// anonymous visitor to sign in — never to an error — and sign-in brings them back to the page they
// asked for, only ever on this site. In demo mode the page lists the demo accounts.
import { expect, test } from '@playwright/test';
import { apiSession, DEMO } from './security-helpers';

test('[AUTH]: an anonymous visitor to a deployment page signs in and lands back on that page', async ({
  page,
  playwright,
}, testInfo) => {
  // A real deployment to ask for: the demo deploys 1.0.0 everywhere at start.
  const admin = await apiSession(playwright.request, testInfo, DEMO.admin);
  let id = '';
  await expect
    .poll(
      async () => {
        const list = await admin.json<{ items: { id: string }[] }>('/api/v1/deployments?limit=1');
        id = list.items[0]?.id ?? '';
        return id;
      },
      { timeout: 60_000 },
    )
    .not.toBe('');
  await admin.dispose();

  await page.goto(`/deployments/${id}`);
  await expect(page).toHaveURL(`/login?next=${encodeURIComponent(`/deployments/${id}`)}`);
  await expect(page.getByRole('heading', { name: 'Sign in' })).toBeVisible();
  await expect(page.getByText(/Could not load|sign in first/)).toHaveCount(0);

  // Demo mode: the page lists the demo accounts, and one click fills the form.
  const demo = page.getByRole('region', { name: 'Demo accounts' });
  await expect(demo.getByRole('row')).toHaveCount(5);
  await expect(demo).toContainText('demo-release-manager');
  await demo.getByRole('button', { name: 'Use viewer' }).click();
  await expect(page.getByLabel('Username')).toHaveValue('viewer');
  await expect(page.getByLabel('Password')).toHaveValue('demo-viewer');
  await page.getByRole('button', { name: 'Sign in' }).click();

  await expect(page).toHaveURL(`/deployments/${id}`);
  await expect(
    page.getByRole('heading', { level: 1, name: /^(Deployment|Rollback|Promotion) of / }),
  ).toBeVisible();
  await expect(page.getByRole('banner')).toContainText('viewer');
  // Stored state: the browser holds a session of viewer.
  const me = await page.request.get('/api/v1/auth/me');
  expect(me.status()).toBe(200);
  expect((await me.json()).username).toBe('viewer');

  // Signed out, any page sends the visitor back to sign in, again with the way back.
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.goto('/audit?actor=admin');
  await expect(page).toHaveURL(`/login?next=${encodeURIComponent('/audit?actor=admin')}`);
  await expect(page.getByRole('heading', { name: 'Sign in' })).toBeVisible();
});

test('[AUTH]: sign-in never sends the visitor off the site, and a wrong password is refused on the page', async ({
  page,
  baseURL,
}) => {
  for (const next of ['https://evil.example/', '//evil.example/x', '/\\evil.example']) {
    await page.context().clearCookies();
    await page.goto(`/login?next=${encodeURIComponent(next)}`);
    await page.getByLabel('Username').fill(DEMO.deployer.username);
    await page.getByLabel('Password').fill('not-the-password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page.getByRole('alert')).toHaveText('invalid username or password');
    await expect(page).toHaveURL(`/login?next=${encodeURIComponent(next)}`);

    await page.getByLabel('Password').fill(DEMO.deployer.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page).toHaveURL('/');
    expect(new URL(page.url()).host).toBe(new URL(baseURL as string).host);
  }
});
