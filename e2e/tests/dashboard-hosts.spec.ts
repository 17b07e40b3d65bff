// The Hosts page (docs/hosts.md): an admin creates an enrolment token in the UI (shown once), a real
// `qubot agent` enrols with it on this machine (loopback address) and shows up ready with its
// figures; cordon and drain from the page change the stored state; a viewer gets no Hosts page.
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import type { Host, List } from '@qubot/api-contract';
import { startAgent } from './support/agent';
import { screenshot, signIn } from './support/qubot';

const NAME = `e2e-host-${process.pid}`;

test('[HOSTS]: enrol a host with a token from the page, see it ready, cordon and drain it', async ({
  page,
  browser,
  baseURL,
}, testInfo) => {
  const admin = await signIn(page, 'admin');
  const dataDir = mkdtempSync(join(tmpdir(), 'qubot-e2e-agent-'));
  let agent: ChildProcess | null = null;
  try {
    await page.goto('/hosts');
    await expect(page.getByRole('heading', { name: 'Hosts', level: 1 })).toBeVisible();
    const form = page.getByRole('form', { name: 'Create an enrolment token' });
    await form.getByLabel('Token name').fill(NAME);
    await form.getByRole('button', { name: 'Create enrolment token' }).click();
    const secretBox = page.getByRole('region', { name: `Enrolment token ${NAME}` });
    const secret = await secretBox.getByRole('textbox').inputValue();
    expect(secret).toMatch(/^qhe_/);
    // Stored hashed: the list never shows it again.
    const tokens = await admin.get<{ items: { name: string; status: string }[] }>('/hosts/enrolment-tokens');
    expect(JSON.stringify(tokens)).not.toContain(secret);
    expect(tokens.items.find((t) => t.name === NAME)?.status).toBe('active');

    agent = startAgent({ server: baseURL as string, token: secret, dataDir, name: NAME });

    const row = page.getByRole('row', { name: new RegExp(NAME) });
    await expect(row).toContainText('ready', { timeout: 30_000 });
    await expect(row).toContainText('0.1.0');
    await expect(row).toContainText('GiB');
    await screenshot(page, testInfo, 'hosts');

    await row.getByRole('button', { name: `Cordon ${NAME}` }).click();
    await expect(row).toContainText('cordoned');
    const stored = async () =>
      (await admin.get<List<Host>>('/hosts')).items.find((h) => h.name === NAME) as Host;
    expect(await stored()).toMatchObject({ state: 'cordoned', scheduling: 'cordoned' });

    await row.getByRole('button', { name: `Drain ${NAME}` }).click();
    await row.getByRole('button', { name: `Confirm drain ${NAME}` }).click();
    // Nothing runs on it: drained at once (a host with instances moves them first, docs/hosts.md).
    await expect(row).toContainText('drained');
    expect(await stored()).toMatchObject({ state: 'drained', scheduling: 'draining' });
    const audit = await admin.get<{ items: { action: string; target: string }[] }>('/audit?action=host.');
    expect(audit.items.filter((a) => a.target === NAME).map((a) => a.action)).toEqual(
      expect.arrayContaining(['host.enrol', 'host.cordon', 'host.drain']),
    );

    // Revoked from the page: the agent's credential stops working, it exits.
    const exited = new Promise<number | null>((r) => agent?.once('exit', (code) => r(code)));
    await row.getByRole('button', { name: `Revoke ${NAME}` }).click();
    await row.getByRole('button', { name: `Confirm revoke ${NAME}` }).click();
    await expect(row).toContainText('revoked');
    expect(await exited).toBe(3);

    // A viewer has no Hosts page in the navigation, and the API refuses.
    const other = await browser.newContext();
    try {
      const viewerPage = await other.newPage();
      const viewer = await signIn(viewerPage, 'viewer');
      await viewerPage.goto('/');
      await expect(viewerPage.getByRole('link', { name: 'Pipeline' })).toBeVisible();
      await expect(viewerPage.getByRole('link', { name: 'Hosts' })).toHaveCount(0);
      const res = await viewer.request.get('/api/v1/hosts');
      expect(res.status()).toBe(403);
    } finally {
      await other.close();
    }
  } finally {
    agent?.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  }
});
