import { expect, test } from '@playwright/test';
import { DASH, dashEnvironment, ensureDashApp, onPageAs } from './dashboard-helpers';
import { finished, screenshot, signIn } from './support/qubot';

test.setTimeout(180_000);

test('[RESOURCES]: a release-manager sets CPU and memory limits from the environment page; the server names a bad field; the rolling deployment shows live; a viewer cannot', async ({
  page,
  browser,
}, testInfo) => {
  const admin = await signIn(page, 'admin');
  await ensureDashApp(admin);
  const before = await dashEnvironment(admin, 'development');
  expect(before.live).not.toBeNull();
  expect(before.activeDeployment).toBeNull();
  // Limits that differ from what is stored, so the change rolls the instances.
  const memoryMb = before.resources?.memoryMb === 200 ? 220 : 200;
  const context = await browser.newContext();
  const rm = await context.newPage();
  try {
    await signIn(rm, 'release-manager');
    await rm.goto(`/apps/${DASH}/environments/development`);
    const form = rm.getByRole('form', { name: 'Resources of development' });
    const memory = form.getByLabel('Memory limit (MiB)');
    const cpus = form.getByLabel('CPU limit (CPUs)');

    // Below the server's minimum: the server refuses (400 naming body.memoryMb), shown on the field.
    await memory.fill('8');
    await cpus.fill('0.5');
    await form.getByLabel('Resources change reason').fill('resources e2e');
    await form.getByRole('button', { name: 'Apply limits' }).click();
    await expect(memory).toHaveAttribute('aria-invalid', 'true');
    await expect(memory).toHaveAccessibleDescription(/memoryMb/);
    await expect(cpus).not.toHaveAttribute('aria-invalid', 'true');
    // Not a number: named before anything is sent.
    await cpus.fill('half');
    await form.getByRole('button', { name: 'Apply limits' }).click();
    await expect(cpus).toHaveAccessibleDescription(/CPUs must be a number/);
    expect((await dashEnvironment(admin, 'development')).resources).toEqual(before.resources);

    await memory.fill(String(memoryMb));
    await cpus.fill('0.5');
    await form.getByLabel('Strategy').selectOption('rolling');
    await form.getByRole('button', { name: 'Apply limits' }).click();
    await expect(form.getByRole('status').last()).toHaveText(
      `Limits set to ${memoryMb} MiB · 0.5 CPU: rolling the instances`,
    );
    await expect(memory).not.toHaveAttribute('aria-invalid', 'true');
    // The deployment it started, shown in the form and followed live to its end.
    const shown = form.getByRole('region', { name: 'Resources deployment' });
    await expect(shown).toContainText(`rolling of ${before.live?.version} with the new limits`);
    const href = await shown.getByRole('link', { name: 'View deployment' }).getAttribute('href');
    const id = href?.split('/').pop() as string;
    const done = await finished(admin, id, 120_000);
    expect(done).toMatchObject({ status: 'succeeded', strategy: 'rolling', reason: 'resources e2e' });
    await expect(shown).toContainText('Succeeded', { timeout: 15_000 });
    await expect(rm.getByText(`Limits per instance: ${memoryMb} MiB · 0.5 CPU`)).toBeVisible();

    // Stored: the limits, and every serving instance started under them.
    const after = await dashEnvironment(admin, 'development');
    expect(after.resources).toEqual({ memoryMb, cpus: 0.5 });
    const serving = after.instances.filter((i) => i.pool === after.activeColor);
    expect(serving.length).toBeGreaterThan(0);
    for (const i of serving) expect(i.limits).toEqual({ memoryMb, cpus: 0.5 });
    const audit = await admin.get<{ items: { action: string; reason: string | null; after: unknown }[] }>(
      `/audit?action=environment.resources&app=${DASH}`,
    );
    expect(audit.items[0]).toMatchObject({ reason: 'resources e2e' });
    await screenshot(rm, testInfo, 'environment-resources');
  } finally {
    await context.close();
  }

  // A viewer sees the limits but no form.
  await onPageAs(browser, 'viewer', `/apps/${DASH}/environments/development`, async (viewer) => {
    await expect(viewer.getByText(`Limits per instance: ${memoryMb} MiB · 0.5 CPU`)).toBeVisible();
    await expect(viewer.getByRole('form', { name: 'Resources of development' })).toHaveCount(0);
    await expect(viewer.getByText('Resources: Needs release-manager (you are viewer).')).toBeVisible();
  });
});
