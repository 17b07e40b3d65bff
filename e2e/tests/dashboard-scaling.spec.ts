import { expect, test } from '@playwright/test';
import { csrfOf, DASH, dashEnvironment, ensureDashApp, onPageAs } from './dashboard-helpers';
import { finished, screenshot, signIn } from './support/qubot';

test.setTimeout(150_000);

test('[SCALING]: a release-manager scales development from its page and sets an autoscaling policy; a viewer cannot', async ({
  page,
  browser,
}, testInfo) => {
  const admin = await signIn(page, 'admin');
  await ensureDashApp(admin);
  const before = await dashEnvironment(admin, 'development');
  expect(before.live).not.toBeNull();
  const from = before.replicas;
  const to = from + 1;
  const context = await browser.newContext();
  const rm = await context.newPage();
  try {
    await signIn(rm, 'release-manager');
    await rm.goto(`/apps/${DASH}/environments/development`);
    const form = rm.getByRole('form', { name: 'Scale development' });
    await form.getByLabel('Scale to replicas').fill(String(to));
    await form.getByLabel('Scale reason').fill('scaling e2e');
    await form.getByRole('button', { name: 'Scale now' }).click();
    await expect(form.getByRole('status')).toHaveText(`Scaling to ${to}`);

    // Recorded like a deployment: a `scale` deployment of the live release, shown live on the page.
    let scaleId: string | undefined;
    await expect
      .poll(
        async () => {
          const list = await admin.get<{ items: { id: string; kind: string; reason: string | null }[] }>(
            `/deployments?app=${DASH}&env=development`,
          );
          scaleId = list.items.find((d) => d.kind === 'scale' && d.reason === 'scaling e2e')?.id;
          return scaleId;
        },
        { message: 'the scale deployment is listed', timeout: 15_000 },
      )
      .toBeTruthy();
    const done = await finished(admin, scaleId as string, 90_000);
    expect(done).toMatchObject({
      kind: 'scale',
      status: 'succeeded',
      release: { version: before.live?.version },
    });
    await expect(
      rm
        .getByRole('definition')
        .filter({ hasText: new RegExp(`^${to}$`) })
        .first(),
    ).toBeVisible();
    const after = await dashEnvironment(admin, 'development');
    expect(after.replicas).toBe(to);
    expect(after.instances.filter((i) => i.pool === after.activeColor && i.healthy)).toHaveLength(to);
    const audit = await admin.get<{ items: { action: string; reason: string | null }[] }>(
      `/audit?action=environment.scale&app=${DASH}`,
    );
    expect(audit.items[0]).toMatchObject({ reason: 'scaling e2e' });

    // The autoscaling policy editor: saved, and the evaluator's decisions are listed below it.
    const policy = rm.getByRole('form', { name: 'Autoscaling policy of development' });
    await policy.getByLabel('Min replicas').fill('1');
    await policy.getByLabel('Max replicas').fill('3');
    await policy.getByLabel('Metric').selectOption('rps');
    await policy.getByLabel('Target per instance').fill('500');
    await policy.getByLabel('Cooldown (seconds)').fill('600');
    await policy.getByRole('checkbox', { name: 'Autoscaling enabled' }).uncheck();
    await policy.getByRole('button', { name: 'Save policy' }).click();
    await expect(policy.getByRole('status')).toHaveText('Policy saved');
    const stored = await admin.get<{ policy: { maxReplicas: number; target: number; enabled: boolean } }>(
      `/apps/${DASH}/environments/development/autoscale`,
    );
    expect(stored.policy).toMatchObject({ maxReplicas: 3, target: 500, enabled: false });
    // A bad form names the field before anything is sent.
    await policy.getByLabel('Min replicas').fill('5');
    await policy.getByRole('button', { name: 'Save policy' }).click();
    await expect(policy.getByRole('alert')).toHaveText('Min replicas must not exceed max replicas');
    await expect(rm.getByText('Autoscaling decisions')).toBeVisible();
    await screenshot(rm, testInfo, 'environment-scaling');
  } finally {
    await context.close();
  }

  // A viewer sees the policy but cannot scale or edit it.
  await onPageAs(browser, 'viewer', `/apps/${DASH}/environments/development`, async (viewer) => {
    await expect(viewer.getByRole('form', { name: 'Scale development' })).toHaveCount(0);
    await expect(viewer.getByText('Scaling: Needs release-manager (you are viewer).')).toBeVisible();
    const policy = viewer.getByRole('form', { name: 'Autoscaling policy of development' });
    await expect(policy.getByLabel('Max replicas')).toBeDisabled();
    await expect(policy.getByRole('button', { name: 'Save policy' })).toHaveCount(0);
  });

  // Back to the count the other specs expect.
  const res = await page.request.post(`/api/v1/apps/${DASH}/environments/development/scale`, {
    data: { replicas: from, reason: 'scaling e2e: restore' },
    headers: { 'x-csrf-token': await csrfOf(page) },
  });
  expect([200, 202]).toContain(res.status());
  const body = await res.json();
  if (body.deployment) expect((await finished(admin, body.deployment.id, 90_000)).status).toBe('succeeded');
});
