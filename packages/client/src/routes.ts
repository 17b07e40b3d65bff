// Typed calls: each entry names a route of the server's authorization table
// (apps/api/src/routes/route-rules.ts; routes.test.ts checks every key is there) with the
// contract types of its body, query and answer. Add a line here to call a new route typed.
import type {
  Application,
  AuditEntry,
  AuditQuery,
  CreateApplicationBody,
  CreateDeploymentBody,
  CreateReleaseBody,
  Deployment,
  DeploymentActionBody,
  Environment,
  List,
  LoginBody,
  Me,
  PromoteBody,
  Release,
  RollbackBody,
  TrafficBody,
  UpdateEnvironmentSettingsBody,
} from '@qubot/api-contract';
import { ApiError } from './errors.ts';
import {
  type Credential,
  CSRF_COOKIE,
  type HttpClient,
  type Query,
  type RequestOptions,
  SESSION_COOKIE,
  setCookieValue,
} from './http.ts';

type DeploymentListQuery = {
  app?: string;
  env?: string;
  status?: string;
  limit?: number;
  cursor?: string;
};

/** A route and the shapes it takes and answers (types only; the value is a marker). */
const route = <T extends { body?: unknown; query?: unknown; response: unknown }>() => ({}) as T;

export const ROUTES = {
  'POST /api/v1/auth/login': route<{ body: LoginBody; response: Me & { csrfToken: string } }>(),
  'POST /api/v1/auth/logout': route<{ body: Record<string, never>; response: unknown }>(),
  'GET /api/v1/auth/me': route<{ response: Me }>(),
  'GET /api/v1/apps': route<{ response: List<Application> }>(),
  'POST /api/v1/apps': route<{ body: CreateApplicationBody; response: Application }>(),
  'GET /api/v1/apps/:app/environments': route<{ response: List<Environment> }>(),
  'GET /api/v1/apps/:app/environments/:env': route<{ response: Environment }>(),
  'PATCH /api/v1/apps/:app/environments/:env/settings': route<{
    body: UpdateEnvironmentSettingsBody;
    response: Environment;
  }>(),
  'GET /api/v1/apps/:app/releases': route<{
    query: { limit?: number; cursor?: string };
    response: List<Release>;
  }>(),
  'GET /api/v1/apps/:app/releases/:version': route<{ response: Release }>(),
  'POST /api/v1/apps/:app/releases': route<{ body: CreateReleaseBody; response: Release }>(),
  'GET /api/v1/deployments': route<{ query: DeploymentListQuery; response: List<Deployment> }>(),
  'GET /api/v1/deployments/:id': route<{ response: Deployment }>(),
  'POST /api/v1/apps/:app/environments/:env/deployments': route<{
    body: CreateDeploymentBody;
    response: Deployment;
  }>(),
  'POST /api/v1/deployments/:id/pause': route<{ body: DeploymentActionBody; response: Deployment }>(),
  'POST /api/v1/deployments/:id/resume': route<{ body: DeploymentActionBody; response: Deployment }>(),
  'POST /api/v1/deployments/:id/abort': route<{ body: DeploymentActionBody; response: Deployment }>(),
  'POST /api/v1/deployments/:id/advance': route<{ body: DeploymentActionBody; response: Deployment }>(),
  'POST /api/v1/deployments/:id/approve': route<{ body: DeploymentActionBody; response: Deployment }>(),
  'POST /api/v1/apps/:app/environments/:env/promote': route<{ body: PromoteBody; response: Deployment }>(),
  'POST /api/v1/apps/:app/environments/:env/traffic': route<{ body: TrafficBody; response: Environment }>(),
  'POST /api/v1/apps/:app/environments/:env/rollback': route<{ body: RollbackBody; response: Deployment }>(),
  'GET /api/v1/audit': route<{ query: AuditQuery; response: List<AuditEntry> }>(),
};
export type ApiRoutes = typeof ROUTES;

export type RouteKey = keyof ApiRoutes;

/** `/apps/:app/environments/:env` → `{ app: string; env: string }`. */
export type PathParams<P extends string> = P extends `${string}:${infer Name}/${infer Rest}`
  ? { [K in Name | keyof PathParams<`/${Rest}`>]: string }
  : P extends `${string}:${infer Name}`
    ? { [K in Name]: string }
    : Record<never, never>;

type PathOf<K extends string> = K extends `${string} ${infer P}` ? P : never;

export type CallOptions<K extends RouteKey> = (keyof PathParams<PathOf<K>> extends never
  ? { params?: undefined }
  : { params: PathParams<PathOf<K>> }) &
  (ApiRoutes[K] extends { body: infer B } ? { body: B } : { body?: undefined }) &
  (ApiRoutes[K] extends { query: infer Q } ? { query?: Q } : { query?: undefined }) &
  Omit<RequestOptions, 'body' | 'query'>;

/** Fills `:name` segments (URL-encoded). */
export function routePath(pattern: string, params: Record<string, string> = {}): string {
  return pattern.replace(/:([A-Za-z]+)/g, (_, name: string) => {
    const value = params[name];
    if (value === undefined) throw new Error(`missing path parameter ${name} for ${pattern}`);
    return encodeURIComponent(value);
  });
}

/** `call('GET /api/v1/apps/:app/environments', { params: { app } })`, typed by the route. */
export function createApi(http: HttpClient) {
  async function respond<K extends RouteKey>(route: K, ...[options]: OptionalIfEmpty<CallOptions<K>>) {
    const space = route.indexOf(' ');
    const method = route.slice(0, space) as 'GET' | 'POST' | 'PATCH';
    const { params, body, query, ...rest } = (options ?? {}) as {
      params?: Record<string, string>;
      body?: unknown;
      query?: Query;
    } & RequestOptions;
    const path = routePath(route.slice(space + 1), params);
    return http.request<ApiRoutes[K]['response']>(method, path, {
      ...rest,
      ...(body === undefined ? {} : { body }),
      ...(query === undefined ? {} : { query }),
    });
  }
  return {
    http,
    /** The whole answer (status, headers, request id). */
    respond,
    /** The answer's body. */
    call: <K extends RouteKey>(route: K, ...options: OptionalIfEmpty<CallOptions<K>>) =>
      respond(route, ...options).then((r) => r.data),
  };
}
export type Api = ReturnType<typeof createApi>;

type RequiredKeys<T> = { [K in keyof T]-?: undefined extends T[K] ? never : K }[keyof T];
type OptionalIfEmpty<T> = RequiredKeys<T> extends never ? [options?: T] : [options: T];

export type SessionCredential = Extract<Credential, { kind: 'session' }>;

/**
 * Signs in with a username and password (`POST /auth/login`, no credential sent) and returns the
 * session as a credential (its cookie and CSRF token) with who signed in.
 */
export async function signIn(
  http: HttpClient,
  who: LoginBody,
): Promise<{ credential: SessionCredential; me: Me & { csrfToken: string } }> {
  const res = await createApi(http).respond('POST /api/v1/auth/login', { body: who, credential: null });
  const cookies = res.headers.getSetCookie();
  const session = setCookieValue(cookies, SESSION_COOKIE);
  const csrf = setCookieValue(cookies, CSRF_COOKIE) ?? res.data.csrfToken;
  if (!session || !csrf)
    throw new ApiError({
      status: res.status,
      code: 'invalid_response',
      message: 'the server signed in but sent no session cookie',
      requestId: res.requestId,
    });
  return { credential: { kind: 'session', session, csrf, username: res.data.username }, me: res.data };
}
