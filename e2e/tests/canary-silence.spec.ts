import AxeBuilder from '@axe-core/playwright';
import { expect, type Page, test } from '@playwright/test';
import {
  APP,
  type Api,
  card,
  type DeploymentView,
  finished,
  freshRelease,
  screenshot,
  settle,
  signIn,
} from './support/qubot';
import { timelineStep } from './support/timeline';

test.use({ viewport: { width: 1280, height: 800 } });

// The first environment: any release may be deployed there (promotion order).
const ENV = 'development';
const FAULTY = '1.3.0-faulty';

interface AnalysisRow {
  step: string;
  metric: string;
  verdict: 'passed' | 'failed' | 'inconclusive';
  value: number | null;
  samples: number;
  minSamples: number;
  baseline: number | null;
}

/** PUT …/synthetic-load through the API, with the session's CSRF token. */
async function setSyntheticLoad(page: Page, enabled: boolean) {
  const csrf = (await page.context().cookies()).find((c) => c.name === 'qubot_csrf')?.value ?? '';
  const res = await page.request.put(`/api/v1/apps/${APP}/environments/${ENV}/synthetic-load`, {
    data: { enabled, reason: 'e2e: canary silence' },
    headers: { 'x-csrf-token': csrf },
  });
  expect(res.status(), await res.text()).toBe(200);
}

/** The charts, the card's health and the switch add no serious or critical axe-core violation. */
async function expectAccessible(page: Page, label: string) {
  const results = await new AxeBuilder({ page }).analyze();
  const serious = results.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
  expect(serious, `${label}: serious or critical axe violations`).toEqual([]);
}

async function liveNow(api: Api) {
  const env = await api.environment(ENV);
  expect(env.activeDeployment).toBeNull();
  return env;
}

test('[CANARY]: with the demo synthetic load, a canary of 1.3.0-faulty rolls back early by itself and the page shows why', async ({
  page,
}, testInfo) => {
  test.setTimeout(150_000);
  const api = await signIn(page, 'release-manager');
  await settle(api);
  const before = await liveNow(api);
  expect(before.live?.version).not.toBe(FAULTY);

  // Demo mode: the card says the synthetic load is on — the only traffic this canary gets.
  await page.goto('/');
  const envCard = card(page, ENV);
  await expect(envCard.getByRole('definition').filter({ hasText: 'on · 5 requests/s' })).toBeVisible();
  // The live version's figures from the router: requests are flowing, and they are clean.
  await expect(envCard.getByRole('definition').filter({ hasText: /% errors/ })).toBeVisible({
    timeout: 30_000,
  });

  const deployment = await api.post<DeploymentView>(`/apps/${APP}/environments/${ENV}/deployments`, {
    version: FAULTY,
    strategy: 'canary',
    reason: 'e2e: a faulty canary on the synthetic load alone',
    options: { steps: [50, 100], stepDurationSeconds: 120, analysis: { intervalSeconds: 2 } },
  });
  await page.goto(`/deployments/${deployment.id}`);
  await expect(page.getByRole('status', { name: 'Deployment status' })).toHaveText('Rolled back', {
    timeout: 90_000,
  });
  const stored = await finished(api, deployment.id);
  expect(stored.status).toBe('rolled_back');
  // Early abort: the 120 s hold did not run out.
  const step = stored.steps.find((s) => s.name === 'Traffic 50%')!;
  expect(stored.error).toMatch(
    /^analysis failed at Traffic 50% after \d+ s of its 2 min hold: error rate [\d.]+ % > max 5 % \(\d+ requests\)$/,
  );
  const seconds = Number(/after (\d+) s/.exec(stored.error!)?.[1]);
  expect(seconds).toBeLessThan(120);
  const analysis = stored.analysis as AnalysisRow[];
  const breach = analysis.find((a) => a.verdict === 'failed');
  expect(breach).toMatchObject({ metric: 'errorRate', step: 'weight-50', minSamples: 20 });
  expect(breach!.samples).toBeGreaterThanOrEqual(20);

  // The page says why: the step's message and the error, the breached check, and the time series.
  await expect(timelineStep(page, step.name)).toContainText('Failed');
  await expect(timelineStep(page, step.name)).toContainText(/error rate [\d.]+ % > max 5 %/);
  await expect(page.getByRole('alert').filter({ hasText: stored.error! })).toBeVisible();
  const charts = page.getByRole('region', { name: 'Analysis over time' });
  await expect(charts).toContainText('Traffic 50%: failed');
  await expect(charts).toContainText(
    /Error rate at \d+ s: canary [\d.]+ %, stable [\d.]+ %, threshold ≤ 5\.00 % — failed\./,
  );
  await charts.scrollIntoViewIfNeeded();
  await screenshot(page, testInfo, 'deployment-canary-early-abort');
  await expectAccessible(page, 'deployment page with analysis charts');

  const after = await api.environment(ENV);
  expect(after).toMatchObject({ live: { version: before.live!.version }, activeDeployment: null });
});

test('[CANARY]: with the synthetic load off, a canary is inconclusive and holds, saying it waits for requests', async ({
  page,
}, testInfo) => {
  test.setTimeout(120_000);
  const api = await signIn(page, 'release-manager');
  const envs = await settle(api);
  const before = await liveNow(api);
  const version = await freshRelease(api, envs);
  let id: string | null = null;
  try {
    // Switched off from the card (release-manager), as a person would.
    await page.goto('/');
    const envCard = card(page, ENV);
    await envCard.getByRole('button', { name: `Stop the synthetic load on ${ENV}` }).click();
    await expect(envCard.getByRole('definition').filter({ hasText: /^off/ })).toBeVisible();
    expect((await api.environment(ENV)) as unknown).toMatchObject({ syntheticLoad: false });
    await expectAccessible(page, 'pipeline with live traffic health and the synthetic load switch');

    const deployment = await api.post<DeploymentView>(`/apps/${APP}/environments/${ENV}/deployments`, {
      version,
      strategy: 'canary',
      reason: 'e2e: a canary nobody sends traffic to',
      options: {
        steps: [50, 100],
        stepDurationSeconds: 2,
        analysis: { intervalSeconds: 1, inconclusiveLimitSeconds: 600 },
      },
    });
    id = deployment.id;
    await page.goto(`/deployments/${deployment.id}`);
    const hold = timelineStep(page, 'Traffic 50%');
    await expect(hold).toContainText(
      /analysis inconclusive: waiting for at least 20 requests \(\d+ so far\)/,
      {
        timeout: 60_000,
      },
    );
    // It holds: not at 100 %, not succeeded.
    await expect(page.getByRole('status', { name: 'Deployment status' })).toHaveText('Running');
    const charts = page.getByRole('region', { name: 'Analysis over time' });
    await expect(charts).toContainText('Traffic 50%: inconclusive (not enough requests yet)');
    await expect(charts).toContainText(/P95 latency at \d+ s: canary —, threshold ≤ 1,000 ms — inconclusive/);
    await hold.scrollIntoViewIfNeeded();
    await screenshot(page, testInfo, 'deployment-canary-inconclusive');

    const stored = await api.deployment(deployment.id);
    expect(stored.status).toBe('running');
    const rows = stored.analysis as AnalysisRow[];
    expect(rows.some((r) => r.verdict === 'passed' && r.metric !== 'health')).toBe(false);
    expect(rows.filter((r) => r.metric === 'p95Ms').every((r) => r.verdict === 'inconclusive')).toBe(true);
    expect((await api.environment(ENV)).traffic).not.toContainEqual(
      expect.objectContaining({ version, weight: 100 }),
    );
  } finally {
    if (id) {
      await api.post(`/deployments/${id}/abort`, { reason: 'e2e: done' }, [200, 202, 409]);
      await finished(api, id);
    }
    await setSyntheticLoad(page, true);
  }
  const after = await api.environment(ENV);
  expect(after).toMatchObject({ live: { version: before.live!.version }, syntheticLoad: true });
});
