import { expect, test } from '@playwright/test';
import type { Backup, BackupStatus } from '@qubot/api-contract';
import { screenshot, signIn } from './support/qubot';

// Settings → Backups against the real server: a backup taken from the button lists, its verify
// runs a real restore drill (scratch database, compare, migrate, boot), and the drill's result
// and age replace the "overdue" alert. docs/backup.md.
test.setTimeout(120_000);

test('[BACKUPS]: back up now, see it listed, verify it by a restore drill, see the drill result and its age', async ({
  page,
}, testInfo) => {
  const admin = await signIn(page, 'admin');
  const before = await admin.send('GET /api/v1/backups', { query: {} });
  await page.goto('/settings');
  const panel = page.getByRole('region', { name: 'Backups' });
  await expect(panel).toContainText('S3 storage');
  await expect(panel).toContainText('not configured');

  await panel.getByRole('button', { name: 'Back up now' }).click();
  const taken = panel.getByRole('status').filter({ hasText: /^Backup qb-.* taken\.$/ });
  await expect(taken).toBeVisible({ timeout: 30_000 });
  const id = /Backup (qb-\S+) taken\./.exec((await taken.textContent()) ?? '')?.[1] ?? '';
  expect(id).toMatch(/^qb-/);

  // Listed (the list refetched after the mutation), on this server, not verified yet.
  const table = panel.getByRole('table', { name: 'Backups, newest first' });
  const row = table.getByRole('row').filter({ hasText: id });
  await expect(row).toContainText('not verified');
  await expect(row).toContainText('this server');
  const stored = await admin.send('GET /api/v1/backups', { query: {} });
  expect(stored.items.length).toBe(before.items.length + 1);
  expect(stored.items[0]).toMatchObject({ id, verification: null, locations: ['local'] });

  // Verify: a real restore drill; the row, the drill facts and the alert follow.
  await row.getByRole('button', { name: `Verify ${id}` }).click();
  await expect(
    panel.getByRole('status').filter({ hasText: `${id} restores and matches its manifest.` }),
  ).toBeVisible({ timeout: 60_000 });
  await expect(row).toContainText('ok (manual)');
  const facts = panel.locator('dl.facts');
  await expect(facts).toContainText(/Last restore drill\s*succeeded/);
  await expect(facts.locator('time').nth(1)).toBeVisible();
  await expect(panel.getByRole('alert')).toHaveCount(0);
  await screenshot(page, testInfo, 'settings-backups-verified');

  // The stored state agrees with the screen.
  const status = (await admin.send('GET /api/v1/backups/status', {})) as BackupStatus;
  expect(status).toMatchObject({ drillState: 'ok', lastDrill: { id, ok: true, kind: 'manual' } });
  const after = (await admin.send('GET /api/v1/backups', { query: {} })).items as Backup[];
  expect(after.find((b) => b.id === id)?.verification).toMatchObject({ ok: true, kind: 'manual' });
  const audit = await admin.get<{ items: { action: string; targetId: string | null }[] }>(
    '/audit?action=backup.',
  );
  expect(audit.items.filter((a) => a.targetId === id).map((a) => a.action)).toEqual([
    'backup.verify',
    'backup.create',
  ]);
});

test('[BACKUPS]: a release manager sees no backups and the API refuses them', async ({ page }) => {
  const rm = await signIn(page, 'release-manager');
  await page.goto('/settings');
  await expect(page.getByText('Settings need the admin role')).toBeVisible();
  await expect(page.getByRole('button', { name: 'Back up now' })).toHaveCount(0);
  await rm.send('GET /api/v1/backups', { query: {} }, [403]);
  await rm.send('POST /api/v1/backups', { body: {} }, [403]);
});
