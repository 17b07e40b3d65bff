import { expect, test } from '@playwright/test';
import {
  APP,
  type DeploymentView,
  finished,
  generateLoad,
  liveIndicator,
  screenshot,
  settle,
  signIn,
} from './support/qubot';
import { expectTimeline, timelineStep } from './support/timeline';

test.use({ viewport: { width: 1280, height: 800 } });

const FAULTY = '1.3.0-faulty';
// The first environment: the faulty release has not succeeded anywhere (promotion order).
const ENV = 'development';

interface AnalysisResult {
  step: string;
  metric: string;
  value: number;
  threshold: number;
  bound: 'min' | 'max';
  verdict: 'passed' | 'failed' | 'inconclusive';
  passed: boolean;
}

test('[CANARY]: a faulty release rolls back by itself and the deployment page shows the failed metric and its value', async ({
  page,
}, testInfo) => {
  test.setTimeout(120_000);
  const api = await signIn(page, 'release-manager');
  const envs = await settle(api);
  const before = envs.find((e) => e.name === ENV)!;
  expect(before.live?.version, `${FAULTY} must not be live in ${ENV} already`).not.toBe(FAULTY);
  expect(before.address).toBeTruthy();

  // The deploy form has no strategy options, so the canary is created through the API with short
  // holds; the analysis then needs real requests through the router during each hold.
  const deployment = await api.post<DeploymentView>(`/apps/${APP}/environments/${ENV}/deployments`, {
    version: FAULTY,
    strategy: 'canary',
    reason: 'e2e: canary of a faulty release',
    options: {
      steps: [50, 100],
      stepDurationSeconds: 5,
      canaryReplicas: 1,
      analysis: { minRequests: 20, maxErrorRate: 0.05 },
    },
  });
  let done = false;
  const load = generateLoad(before.address!, () => done, 20_000, 2);
  try {
    await page.goto(`/deployments/${deployment.id}`);
    await expect(page.getByRole('heading', { level: 1 })).toHaveText(`Deployment of ${FAULTY} to ${ENV}`);
    await expect(liveIndicator(page)).toBeVisible();

    // The canary takes half of the traffic and is held there while the router measures it.
    const hold = timelineStep(page, 'Traffic 50%');
    await expect(hold).toContainText(/Running/, { timeout: 30_000 });
    await screenshot(page, testInfo, 'deployment-canary-running');

    // Nobody touches it: the analysis fails and the engine rolls back.
    await expect(page.getByRole('status', { name: 'Deployment status' })).toHaveText('Rolled back', {
      timeout: 60_000,
    });
    const stored = await finished(api, deployment.id);
    done = true;
    expect(stored).toMatchObject({ status: 'rolled_back', strategy: 'canary', release: { version: FAULTY } });
    const analysis = stored.analysis as AnalysisResult[];
    const failed = analysis.find((r) => r.verdict === 'failed');
    expect(failed, 'a failed analysis result is stored').toBeDefined();
    expect(failed).toMatchObject({ metric: 'errorRate', bound: 'max', threshold: 0.05 });
    expect(failed!.value).toBeGreaterThan(0.05);
    expect(analysis).toContainEqual(expect.objectContaining({ metric: 'minRequests', passed: true }));
    expect(stored.error).toContain('error rate');

    // The page names the metric that failed, with its value and threshold, as stored.
    const value = `${(failed!.value * 100).toFixed(2)} %`;
    const summary = page.getByRole('region', { name: 'Failed check' });
    await expect(summary).toContainText(`Error rate measured ${value}, threshold ≤ 5.00 %`);
    await expect(page.getByRole('alert').filter({ hasText: stored.error! })).toBeVisible();
    const row = page
      .getByRole('table', { name: 'Analysis results' })
      .getByRole('row')
      .filter({ hasText: 'Error rate' })
      .filter({ hasText: 'failed' });
    await expect(row).toHaveCount(1);
    await expect(row).toContainText(value);
    await expect(hold).toContainText(/Failed/);
    await expectTimeline(page, stored.steps);

    // Requests went through the router during the rollout, and some failed on the canary.
    const served = stored.traffic.requests.toLocaleString('en');
    await expect(page.getByRole('definition').filter({ hasText: new RegExp(`^${served}$`) })).toBeVisible();
    expect(stored.traffic.failed).toBeGreaterThan(0);

    // The environment is back on its previous release, served by its previous colour alone.
    await page.getByRole('link', { name: ENV, exact: true }).click();
    const environment = page.getByRole('region', { name: `Environment ${ENV}` });
    await expect(environment).toContainText(`Live ${before.live!.version}`);
    await expect(environment.getByRole('list', { name: `Traffic split in ${ENV}` })).toHaveText(
      `${before.activeColor} ${before.live!.version} 100 %`,
    );
    const history = page.getByRole('table', { name: `Deployments to ${ENV}` });
    await expect(history.getByRole('row').nth(1)).toContainText(FAULTY);
    await expect(history.getByRole('row').nth(1)).toContainText('Rolled back');
    const after = await api.environment(ENV);
    expect(after).toMatchObject({
      live: { version: before.live!.version },
      activeColor: before.activeColor,
      activeDeployment: null,
    });
    expect(after.traffic).toContainEqual({
      pool: before.activeColor,
      version: before.live!.version,
      weight: 100,
    });
  } finally {
    done = true;
    const { sent } = await load.finished;
    testInfo.annotations.push({ type: 'load', description: `${sent} requests sent to ${ENV}` });
  }
});
