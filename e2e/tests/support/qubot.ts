import {
  type APIRequestContext,
  type BrowserContext,
  expect,
  type Page,
  type TestInfo,
} from '@playwright/test';
import type { AuditEntry, Deployment, Environment, Step } from '@qubot/api-contract';
import {
  type CallArgs,
  type CallOptions,
  createApi,
  type HttpClient,
  type JsonRouteKey,
  type RoleName,
  type RouteResponse,
  signIn as signInWith,
} from '@qubot/client';
import { type Answer, answer, answerTo, contextHttp } from './api';

/**
 * Helpers shared by the pipeline, canary, live and reconnect specs: sign-in through the API,
 * typed reads of the stored state, and waits on it. The specs share one server with other spec
 * files, so nothing here assumes what is deployed: read it first.
 */

export const APP = 'qubot-one';
export type Role = RoleName;

export type EnvironmentView = Environment;
export type DeploymentView = Deployment;
export type AuditEntryView = AuditEntry;
export type StepView = Step;

export const TERMINAL = ['succeeded', 'failed', 'rolled_back', 'aborted'];

/** The seeded releases that serve without faults (packages/db seed.ts). */
export const HEALTHY_RELEASES = ['1.0.0', '1.1.0', '1.2.0'];

/** A signed-in API session through @qubot/client, sharing the browser context's cookies. */
export class Api {
  readonly http: HttpClient;
  readonly api: ReturnType<typeof createApi>;

  constructor(
    readonly request: APIRequestContext,
    csrf: string,
  ) {
    this.http = contextHttp(request, csrf);
    this.api = createApi(this.http);
  }

  /** A typed call that must answer one of `expected`; its body. */
  async send<K extends JsonRouteKey>(
    route: K,
    options: CallOptions<K>,
    expected: number[] = [200, 201, 202],
  ): Promise<RouteResponse<K>> {
    const res = await answerTo(this.api, route, ...([options] as CallArgs<K>));
    return expectBody(route, res, expected);
  }

  /** Untyped, for the specs that read by path (`/audit?action=…`). */
  get<T>(path: string): Promise<T> {
    return this.http.get<T>(path);
  }

  async post<T>(path: string, data: unknown, expected: number[] = [200, 201, 202]): Promise<T> {
    return expectBody(`POST ${path}`, await answer(this.http, 'POST', path, data), expected);
  }

  environments = async () =>
    (await this.api.call('GET /api/v1/apps/:app/environments', { params: { app: APP } })).items;
  environment = (env: string) =>
    this.api.call('GET /api/v1/apps/:app/environments/:env', { params: { app: APP, env } });
  deployment = (id: string) => this.api.call('GET /api/v1/deployments/:id', { params: { id } });
}

/** The body of an answer with one of the `expected` statuses (the test fails with it otherwise). */
async function expectBody<T>(what: string, res: Answer, expected: number[]): Promise<T> {
  expect(expected, `${what} answered ${res.status()}: ${await res.text()}`).toContain(res.status());
  return (await res.json()) as T;
}

const sessions = new Map<Role, { cookies: Awaited<ReturnType<BrowserContext['cookies']>>; csrf: string }>();

/**
 * Signs the browser context in as a demo user (password `demo-<role>`) through
 * `POST /api/v1/auth/login`, so the cookies land in the context. One session per role is reused
 * for the worker's life: the server limits sign-ins to 20 a minute per address, and the security
 * specs in the same run need their share.
 */
export async function signIn(target: Page | BrowserContext, role: Role): Promise<Api> {
  const context = 'context' in target ? target.context() : target;
  const cached = sessions.get(role);
  if (cached) {
    await context.addCookies(cached.cookies);
    const me = await context.request.get('/api/v1/auth/me');
    if (me.ok()) return new Api(context.request, cached.csrf);
    sessions.delete(role);
    await context.clearCookies();
  }
  const { credential } = await signInWith(contextHttp(context.request), {
    username: role,
    password: `demo-${role}`,
  });
  const csrfToken = credential.csrf;
  const cookies = (await context.cookies()).filter((c) => c.name.startsWith('qubot_'));
  sessions.set(role, { cookies, csrf: csrfToken });
  return new Api(context.request, csrfToken);
}

/**
 * Waits until every environment has something live and no deployment running. A deployment
 * left waiting for a person (by a spec that failed half-way) is aborted, so a spec starts
 * from a settled pipeline whatever ran before it.
 */
export async function settle(api: Api, timeout = 120_000): Promise<EnvironmentView[]> {
  await expect
    .poll(
      async () => {
        const envs = await api.environments();
        for (const env of envs) {
          const d = env.activeDeployment;
          if (d?.status === 'paused') {
            await api.send(
              'POST /api/v1/deployments/:id/abort',
              { params: { id: d.id }, body: { reason: 'e2e: clean start' } },
              [200, 202, 409],
            );
          }
        }
        return envs.filter((e) => e.activeDeployment || !e.live).map((e) => e.name);
      },
      { message: 'environments settle (live, no active deployment)', timeout, intervals: [500] },
    )
    .toEqual([]);
  return api.environments();
}

/** Polls the stored deployment until it has finished, and returns it. */
export async function finished(api: Api, id: string, timeout = 60_000): Promise<DeploymentView> {
  let last: DeploymentView | null = null;
  await expect
    .poll(
      async () => {
        last = await api.deployment(id);
        return TERMINAL.includes(last.status);
      },
      { message: `deployment ${id} finishes`, timeout, intervals: [250] },
    )
    .toBe(true);
  return last!;
}

/** A healthy seeded release that is neither live nor previous anywhere, or a new one registered. */
export async function freshRelease(api: Api, envs: readonly EnvironmentView[]): Promise<string> {
  const used = new Set(envs.flatMap((e) => [e.live?.version, e.previous?.version]));
  const seeded = HEALTHY_RELEASES.find((v) => !used.has(v));
  if (seeded) return seeded;
  const version = `1.2.${Date.now()}`;
  await api.send('POST /api/v1/apps/:app/releases', {
    params: { app: APP },
    body: { version, artifact: 'qubot-one/healthy', changelog: '- Registered by the e2e tests.' },
  });
  return version;
}

/**
 * Bounded load on an environment's address (through its router, which measures it), from the
 * test process: `concurrency` loops until `done()` says stop or `max` requests were sent.
 */
export function generateLoad(address: string, done: () => boolean, max = 4000, concurrency = 3) {
  let sent = 0;
  let failed = 0;
  const loop = async () => {
    while (!done() && sent < max) {
      sent += 1;
      try {
        const res = await fetch(address, { signal: AbortSignal.timeout(2000) });
        await res.arrayBuffer();
        if (res.status >= 500) failed += 1;
      } catch {
        failed += 1;
      }
    }
  };
  const running = Promise.all(Array.from({ length: concurrency }, loop));
  return { finished: running.then(() => ({ sent, failed })) };
}

/** The environment card of the pipeline page (`<section aria-label="Environment <name>">`). */
export const card = (page: Page, env: string) => page.getByRole('region', { name: `Environment ${env}` });

/** Marks the document; `expectNoReload` fails if the page was reloaded since. */
export async function markDocument(page: Page) {
  await page.evaluate(() => {
    (window as unknown as { __qubotE2e?: boolean }).__qubotE2e = true;
  });
}

export async function expectNoReload(page: Page) {
  expect(
    await page.evaluate(() => (window as unknown as { __qubotE2e?: boolean }).__qubotE2e === true),
    'the page was not reloaded',
  ).toBe(true);
}

/** The header's indicator: "Live" once the event stream is connected. */
export const liveIndicator = (page: Page) => page.getByTitle('Receiving live updates');

/**
 * A screenshot of the current viewport, attached to the test's report; with
 * `QUBOT_E2E_DOCS_SCREENSHOTS=1` also written to docs/screenshots/<name>.png for the docs.
 */
export async function screenshot(page: Page, testInfo: TestInfo, name: string) {
  const body = await page.screenshot({ path: testInfo.outputPath(`${name}.png`), animations: 'disabled' });
  await testInfo.attach(name, { body, contentType: 'image/png' });
  if (process.env.QUBOT_E2E_DOCS_SCREENSHOTS === '1') {
    const { writeFile, mkdir } = await import('node:fs/promises');
    const dir = new URL('../../../docs/screenshots/', import.meta.url);
    await mkdir(dir, { recursive: true });
    await writeFile(new URL(`${name}.png`, dir), body);
  }
}
