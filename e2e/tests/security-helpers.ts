// Shared by the security-*.spec.ts files. They run against their own application, `qubot-sec`
// (development + protected production with approval), so they never disturb the specs that
// drive qubot-one on the same server. Everything is seeded and signed in through the API.

import { type APIRequestContext, type BrowserContext, expect, type TestInfo } from '@playwright/test';
import type { Deployment, Environment } from '@qubot/api-contract';
import {
  type CallArgs,
  createApi,
  type JsonRouteKey,
  ROLES,
  type RoleName,
  signIn as signInWith,
} from '@qubot/client';
import { type Answer, answer, answerTo, contextHttp } from './support/api';

export const APP = 'qubot-sec';
/** The demo launcher (apps/api/src/demo.ts DEMO_LAUNCHER), run from the repository root. */
export const LAUNCHER =
  'node --import tsx apps/qubot-one/src/main.ts --artifact {artifact} --port {port} --pool {pool}';
export const VERSIONS = ['1.0.0', '1.1.0', '1.2.0'] as const;

/** The demo users (password `demo-<role>`), one per role. */
export const DEMO = Object.fromEntries(
  ROLES.map((role) => [role, { username: role, password: `demo-${role}` }]),
) as Record<RoleName, { username: RoleName; password: string }>;
export type Credentials = { username: string; password: string };

export type EnvironmentState = Environment;
export type DeploymentState = Deployment;

/**
 * A signed-in API client (@qubot/client over the context's cookies, with the session's CSRF
 * token, as the web app sends them). `send` and the mutations answer whatever the status, for
 * specs that check refusals; reads expect 200. `send` is typed by the route table; `get`, `post`,
 * `patch` and `delete` take any path, for requests the table would not type.
 */
export function apiClient(req: APIRequestContext, csrf: string) {
  const http = contextHttp(req, csrf);
  const api = createApi(http);
  const client = {
    req,
    http,
    api,
    send: <K extends JsonRouteKey>(route: K, ...args: CallArgs<K>) => answerTo(api, route, ...args),
    get: (path: string) => answer(http, 'GET', path),
    post: (path: string, data: unknown = {}) => answer(http, 'POST', path, data),
    patch: (path: string, data: unknown) => answer(http, 'PATCH', path, data),
    delete: (path: string) => answer(http, 'DELETE', path),
    json: <T>(path: string): Promise<T> => http.get<T>(path),
    environment: (env: string) =>
      api.call('GET /api/v1/apps/:app/environments/:env', { params: { app: APP, env } }),
    deployment: (id: string) => api.call('GET /api/v1/deployments/:id', { params: { id } }),
    async deployments(env: string): Promise<DeploymentState[]> {
      return (await api.call('GET /api/v1/deployments', { query: { app: APP, env } })).items;
    },
  };
  return client;
}
export type Api = ReturnType<typeof apiClient>;

/** Sign in through the API; the browser context (or request context) keeps the session cookie. */
export async function signIn(target: BrowserContext | APIRequestContext, who: Credentials): Promise<Api> {
  const req = 'request' in target ? target.request : target;
  const { credential } = await signInWith(contextHttp(req), who);
  return apiClient(req, credential.csrf);
}

/** A signed-in API session of its own (not tied to a page), e.g. for beforeAll; dispose() it. */
export async function apiSession(
  request: { newContext(options: { baseURL: string }): Promise<APIRequestContext> },
  testInfo: TestInfo,
  who: Credentials,
) {
  const ctx = await request.newContext({ baseURL: baseUrlOf(testInfo) });
  const api = await signIn(ctx, who);
  return Object.assign(api, { dispose: () => ctx.dispose() });
}

export function baseUrlOf(testInfo: TestInfo): string {
  const url = testInfo.project.use.baseURL;
  if (!url) throw new Error('playwright.config.ts sets use.baseURL');
  return url;
}

export async function expectStatus(res: Answer, status: number) {
  expect(res.status(), await res.text()).toBe(status);
  return res;
}

/** Wait (through the API) until a deployment reaches `status` (and `waitingFor`, when given). */
export async function waitForDeployment(
  api: Api,
  id: string,
  status: string,
  waitingFor?: string | null,
  timeout = 90_000,
): Promise<DeploymentState> {
  let last: DeploymentState | undefined;
  await expect
    .poll(
      async () => {
        last = await api.deployment(id);
        return waitingFor === undefined ? last.status : `${last.status}/${last.waitingFor}`;
      },
      { timeout, intervals: [250, 500, 1000] },
    )
    .toBe(waitingFor === undefined ? status : `${status}/${waitingFor}`);
  return last as DeploymentState;
}

/** The version the router sends all traffic to, from the stored environment state. */
export function servingVersion(env: EnvironmentState): string | null {
  const full = env.traffic.find((t) => t.weight === 100);
  return full?.version ?? null;
}

/**
 * Make sure qubot-sec exists with its releases and 1.0.0 live in both environments. Idempotent:
 * every security spec calls it, the first one does the work (about 10 s: one instance per
 * environment). Production requires approval, so a release-manager approves the admin's deploy.
 */
export async function ensureSecApp(admin: Api, releaseManager: Api): Promise<void> {
  const created = await admin.send('POST /api/v1/apps', {
    body: {
      name: APP,
      description: 'Security end-to-end tests',
      launcher: LAUNCHER,
      launcherCwd: '.',
      environments: [
        { name: 'development', replicas: 1 },
        { name: 'production', protected: true, requiresApproval: true, replicas: 1 },
      ],
    },
  });
  expect([201, 409], await created.text()).toContain(created.status());
  for (const version of VERSIONS) {
    const res = await admin.send('POST /api/v1/apps/:app/releases', {
      params: { app: APP },
      body: { version, artifact: 'qubot-one/healthy' },
    });
    expect([200, 201], await res.text()).toContain(res.status());
  }
  const started: Promise<void>[] = [];
  for (const env of ['development', 'production']) {
    const state = await admin.environment(env);
    if (state.live || state.activeDeployment) continue;
    const res = await expectStatus(
      await admin.send('POST /api/v1/apps/:app/environments/:env/deployments', {
        params: { app: APP, env },
        body: {
          version: '1.0.0',
          strategy: 'blue-green',
          options: { autoSwitch: true, rollbackWindowSeconds: 0 },
          reason: 'security e2e: initial release',
          // Development and production start together: an admin's audited override of the order.
          override: true,
        },
      }),
      202,
    );
    const id = (await res.json()).id as string;
    started.push(
      (async () => {
        if (env === 'production') {
          await waitForDeployment(admin, id, 'paused', 'approval');
          await expectStatus(
            await releaseManager.send('POST /api/v1/deployments/:id/approve', { params: { id }, body: {} }),
            200,
          );
        }
        await waitForDeployment(admin, id, 'succeeded');
      })(),
    );
  }
  await Promise.all(started);
}

/** Abort whatever is still running in an environment of qubot-sec (a spec's own leftovers). */
export async function abortActive(admin: Api, env: string): Promise<void> {
  const state = await admin.environment(env);
  if (!state.activeDeployment) return;
  const id = state.activeDeployment.id;
  await admin.send('POST /api/v1/deployments/:id/abort', {
    params: { id },
    body: { reason: 'security e2e: clean up' },
  });
  await expect
    .poll(async () => ['pending', 'running', 'paused'].includes((await admin.deployment(id)).status), {
      timeout: 60_000,
    })
    .toBe(false);
}
