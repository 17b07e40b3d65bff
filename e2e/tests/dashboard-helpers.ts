// Shared by the dashboard-*.spec.ts files. Specs that change state run against their own
// application, `qubot-ui` (development + protected production, one instance each; named to sort
// after qubot-one, so `/` still shows qubot-one), so they never
// disturb the specs that drive qubot-one or qubot-sec on the same server.
import { type Browser, expect, type Page } from '@playwright/test';
import type { Deployment, Environment } from '@qubot/api-contract';
import { type Api, type Role, signIn } from './support/qubot';

export const DASH = 'qubot-ui';
/** The demo launcher (apps/api/src/demo.ts DEMO_LAUNCHER), run from the repository root. */
const LAUNCHER =
  'node --import tsx apps/qubot-one/src/main.ts --artifact {artifact} --port {port} --pool {pool}';
export const DASH_VERSIONS = ['1.0.0', '1.1.0', '1.2.0'] as const;

export type DashEnvironment = Environment;
export type DashDeployment = Deployment;

export const dashEnvironment = (api: Api, env: string) =>
  api.api.call('GET /api/v1/apps/:app/environments/:env', { params: { app: DASH, env } });

/** Create qubot-ui with its releases (idempotent) and make sure 1.0.0 or later is live in both. */
export async function ensureDashApp(admin: Api): Promise<void> {
  await admin.send(
    'POST /api/v1/apps',
    {
      body: {
        name: DASH,
        description: 'Dashboard end-to-end tests',
        launcher: LAUNCHER,
        launcherCwd: '.',
        environments: [
          { name: 'development', replicas: 1 },
          { name: 'production', protected: true, replicas: 1 },
        ],
      },
    },
    [201, 409],
  );
  for (const version of DASH_VERSIONS) {
    await admin.send(
      'POST /api/v1/apps/:app/releases',
      { params: { app: DASH }, body: { version, artifact: 'qubot-one/healthy' } },
      [200, 201, 409],
    );
  }
  // In pipeline order: production takes only what succeeded in development (promotion order).
  for (const env of ['development', 'production']) {
    const state = await dashEnvironment(admin, env);
    if (state.activeDeployment) await abortAndWait(admin, state.activeDeployment.id);
    if (state.live) continue;
    await deployAndWait(admin, env, '1.0.0');
  }
}

/** Deploy `version` to `env` with blue-green switching by itself, and wait until it succeeded. */
export async function deployAndWait(admin: Api, env: string, version: string): Promise<void> {
  const d = await admin.send('POST /api/v1/apps/:app/environments/:env/deployments', {
    params: { app: DASH, env },
    body: {
      version,
      strategy: 'blue-green',
      options: { autoSwitch: true, rollbackWindowSeconds: 0 },
      reason: 'dashboard e2e: set up',
    },
  });
  const done = await waitForStatus(admin, d.id, ['succeeded', 'failed', 'rolled_back', 'aborted', 'paused']);
  if (done.status === 'paused' && done.waitingFor === 'switch') {
    await admin.send('POST /api/v1/deployments/:id/advance', {
      params: { id: d.id },
      body: { reason: 'dashboard e2e: set up' },
    });
  }
  expect((await waitForStatus(admin, d.id, ['succeeded', 'failed', 'rolled_back', 'aborted'])).status).toBe(
    'succeeded',
  );
}

export async function waitForStatus(
  api: Api,
  id: string,
  statuses: string[],
  waitingFor?: string | null,
  timeout = 90_000,
): Promise<DashDeployment> {
  let last: DashDeployment | undefined;
  await expect
    .poll(
      async () => {
        last = await api.deployment(id);
        return statuses.includes(last.status) && (waitingFor === undefined || last.waitingFor === waitingFor);
      },
      { timeout, intervals: [250, 500, 1000] },
    )
    .toBe(true);
  return last as DashDeployment;
}

export async function abortAndWait(api: Api, id: string): Promise<void> {
  await api.send(
    'POST /api/v1/deployments/:id/abort',
    { params: { id }, body: { reason: 'dashboard e2e: clean up' } },
    [200, 202, 409],
  );
  await waitForStatus(api, id, ['aborted', 'rolled_back', 'failed', 'succeeded'], undefined, 60_000);
}

/** Today in the browser's time zone as a date field takes it (YYYY-MM-DD). */
export function localDay(offsetDays = 0): string {
  const d = new Date();
  d.setDate(d.getDate() + offsetDays);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

/** The session's CSRF token, from the cookie the web app reads it from. */
export async function csrfOf(page: Page): Promise<string> {
  const cookie = (await page.context().cookies()).find((c) => c.name === 'qubot_csrf');
  return cookie?.value ?? '';
}

/** `check` on a fresh page of its own browser context, signed in as `role` on `path`; closed after. */
export async function onPageAs(
  browser: Browser,
  role: Role,
  path: string,
  check: (page: Page) => Promise<void>,
): Promise<void> {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    await signIn(page, role);
    await page.goto(path);
    await check(page);
  } finally {
    await context.close();
  }
}
