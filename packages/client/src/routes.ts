// Typed calls: each entry names a route of the server's authorization table
// (apps/api/src/routes/route-rules.ts) with the contract types of its body, query and answer.
// http.test.ts checks both ways: every key here is a route there, and every /api/v1 route there
// but the websocket is typed here. A new route needs its line here too.
import type {
  AnalysisProviderView,
  ApiToken,
  Application,
  ApplicationConfig,
  AuditCsvQuery,
  AuditEntry,
  AuditQuery,
  AutoscalePolicyBody,
  AutoscalePolicyResult,
  Backup,
  BackupDetail,
  BackupListQuery,
  BackupStatus,
  BackupVerification,
  ChangePasswordBody,
  ConfigDiff,
  ConfigEnvironmentDiffQuery,
  ConfigRolloutBody,
  ConfigVersion,
  ConfigVersionDiffQuery,
  CreateApplicationBody,
  CreateBackupBody,
  CreateDeploymentBody,
  CreatedEnrolmentToken,
  CreatedToken,
  CreatedWebhook,
  CreateEnrolmentTokenBody,
  CreateFreezeWindowBody,
  CreateReleaseBody,
  CreateTokenBody,
  CreateUserBody,
  CreateWebhookBody,
  DemoUsers,
  Deployment,
  DeploymentActionBody,
  DeploymentEtaResponse,
  DeploymentListQuery,
  DeploymentLogEntry,
  DoraReport,
  EnrolBody,
  Enrolled,
  EnrolmentToken,
  Environment,
  EnvironmentHooks,
  EnvironmentMetrics,
  EnvironmentParity,
  EnvironmentPolicy,
  FreezeWindow,
  HookRun,
  HookRunLog,
  Host,
  HostActionBody,
  InstanceLog,
  InstanceLogQuery,
  List,
  LoginBody,
  LoginResult,
  Me,
  MetricsQuery,
  Ok,
  PageQuery,
  ParityQuery,
  PodTemplateView,
  PolicyPauseBody,
  PrometheusTargets,
  PromoteBody,
  PromotionPreview,
  PutAnalysisProviderBody,
  PutConfigBody,
  PutHooksBody,
  PutJobLauncherBody,
  RedeployBody,
  Release,
  ResourcesChange,
  RestoreBackupBody,
  RestoreResult,
  RollbackBody,
  RuntimeInfo,
  ScaleBody,
  ScaleResult,
  ScalingDecision,
  SignInOptions,
  SyntheticLoadBody,
  TrafficBody,
  TrafficProviderStatus,
  UpdateEnvironmentSettingsBody,
  UpdatePodTemplateBody,
  UpdatePolicyBody,
  UpdateResourcesBody,
  UpdateRuntimeTargetBody,
  UpdateUserBody,
  UpdateWebhookBody,
  UpdateWebhookSettingsBody,
  User,
  UserWithPassword,
  VerifyBackupBody,
  Webhook,
  WebhookDelivery,
  WebhookDeliveryQuery,
  WebhookSettings,
} from '@qubot/api-contract';
import { ApiError } from './errors.ts';
import {
  buildUrl,
  type Credential,
  CSRF_COOKIE,
  type HttpClient,
  type Method,
  type Query,
  type RequestOptions,
  SESSION_COOKIE,
  setCookieValue,
} from './http.ts';

/**
 * A route and the shapes it takes and answers (types only; the value is a marker). `accept`
 * marks an answer that is not JSON: such a route has a typed `url()` but no `call()`.
 */
const route = <T extends { body?: unknown; query?: unknown; response: unknown; accept?: string }>() =>
  ({}) as T;

export const ROUTES = {
  // Sessions.
  'POST /api/v1/auth/login': route<{ body: LoginBody; response: LoginResult }>(),
  // No body in the schema; the CLI sends `{}`, the dashboard nothing.
  'POST /api/v1/auth/logout': route<{ body?: Record<string, never>; response: Ok }>(),
  'GET /api/v1/auth/me': route<{ response: Me }>(),
  'POST /api/v1/auth/password': route<{ body: ChangePasswordBody; response: Me }>(),
  'GET /api/v1/auth/options': route<{ response: SignInOptions }>(),
  'GET /api/v1/auth/demo-users': route<{ response: DemoUsers }>(),

  // People and machines.
  'GET /api/v1/users': route<{ response: List<User> }>(),
  'POST /api/v1/users': route<{ body: CreateUserBody; response: UserWithPassword }>(),
  'PATCH /api/v1/users/:id': route<{ body: UpdateUserBody; response: UserWithPassword }>(),
  'GET /api/v1/tokens': route<{ response: List<ApiToken> }>(),
  'POST /api/v1/tokens': route<{ body: CreateTokenBody; response: CreatedToken }>(),
  'DELETE /api/v1/tokens/:id': route<{ response: ApiToken }>(),
  'GET /api/v1/backups': route<{ query: BackupListQuery; response: List<Backup> }>(),
  // Hosts and their agents (docs/hosts.md).
  'GET /api/v1/hosts': route<{ response: List<Host> }>(),
  'GET /api/v1/hosts/:id': route<{ response: Host }>(),
  'POST /api/v1/hosts/:id/:action': route<{ body: HostActionBody; response: Host }>(),
  'GET /api/v1/hosts/enrolment-tokens': route<{ query: PageQuery; response: List<EnrolmentToken> }>(),
  'POST /api/v1/hosts/enrolment-tokens': route<{
    body: CreateEnrolmentTokenBody;
    response: CreatedEnrolmentToken;
  }>(),
  'DELETE /api/v1/hosts/enrolment-tokens/:id': route<{ response: EnrolmentToken }>(),
  'POST /api/v1/agent/enrol': route<{ body: EnrolBody; response: Enrolled }>(),
  'GET /api/v1/backups/status': route<{ response: BackupStatus }>(),
  'POST /api/v1/backups': route<{ body: CreateBackupBody; response: Backup }>(),
  'GET /api/v1/backups/:id': route<{ response: BackupDetail }>(),
  'POST /api/v1/backups/:id/verify': route<{ body: VerifyBackupBody; response: BackupVerification }>(),
  'POST /api/v1/backups/:id/restore': route<{ body: RestoreBackupBody; response: RestoreResult }>(),

  // Outgoing webhooks.
  'GET /api/v1/apps/:app/webhooks': route<{ response: List<Webhook> }>(),
  'POST /api/v1/apps/:app/webhooks': route<{ body: CreateWebhookBody; response: CreatedWebhook }>(),
  'GET /api/v1/apps/:app/webhooks/:id': route<{ response: Webhook }>(),
  'PATCH /api/v1/apps/:app/webhooks/:id': route<{ body: UpdateWebhookBody; response: Webhook }>(),
  'DELETE /api/v1/apps/:app/webhooks/:id': route<{ response: Webhook }>(),
  'GET /api/v1/apps/:app/webhooks/:id/deliveries': route<{
    query: WebhookDeliveryQuery;
    response: List<WebhookDelivery>;
  }>(),
  'POST /api/v1/apps/:app/webhooks/:id/deliveries/:delivery/redeliver': route<{
    response: WebhookDelivery;
  }>(),
  'GET /api/v1/settings/webhooks': route<{ response: WebhookSettings }>(),
  'PUT /api/v1/settings/webhooks': route<{ body: UpdateWebhookSettingsBody; response: WebhookSettings }>(),

  // Audit trail.
  'GET /api/v1/audit': route<{ query: AuditQuery; response: List<AuditEntry> }>(),
  'GET /api/v1/audit.csv': route<{ query: AuditCsvQuery; response: string; accept: 'text/csv' }>(),

  // Catalogue and environments.
  'GET /api/v1/apps': route<{ response: List<Application> }>(),
  'POST /api/v1/apps': route<{ body: CreateApplicationBody; response: ApplicationConfig }>(),
  'GET /api/v1/apps/:app/environments': route<{ response: List<Environment> }>(),
  'GET /api/v1/apps/:app/environments/:env': route<{ response: Environment }>(),
  'PATCH /api/v1/apps/:app/environments/:env/settings': route<{
    body: UpdateEnvironmentSettingsBody;
    response: Environment;
  }>(),
  'PUT /api/v1/apps/:app/environments/:env/synthetic-load': route<{
    body: SyntheticLoadBody;
    response: Environment;
  }>(),
  'PUT /api/v1/apps/:app/environments/:env/resources': route<{
    body: UpdateResourcesBody;
    response: ResourcesChange;
  }>(),
  'GET /api/v1/runtime': route<{ response: RuntimeInfo }>(),
  // Where an environment's instances run, and the application's Kubernetes pod template (admin).
  'PUT /api/v1/apps/:app/environments/:env/runtime': route<{
    body: UpdateRuntimeTargetBody;
    response: Environment;
  }>(),
  'PUT /api/v1/apps/:app/pod-template': route<{ body: UpdatePodTemplateBody; response: PodTemplateView }>(),
  'GET /api/v1/apps/:app/environments/:env/analysis-provider': route<{ response: AnalysisProviderView }>(),
  'PUT /api/v1/apps/:app/environments/:env/analysis-provider': route<{
    body: PutAnalysisProviderBody;
    response: AnalysisProviderView;
  }>(),
  'GET /api/v1/apps/:app/environments/:env/freeze-windows': route<{ response: List<FreezeWindow> }>(),
  'POST /api/v1/apps/:app/environments/:env/freeze-windows': route<{
    body: CreateFreezeWindowBody;
    response: FreezeWindow;
  }>(),
  'DELETE /api/v1/apps/:app/environments/:env/freeze-windows/:id': route<{ response: FreezeWindow }>(),
  'GET /api/v1/apps/:app/policies': route<{ response: List<EnvironmentPolicy> }>(),
  'PUT /api/v1/apps/:app/environments/:env/policy': route<{
    body: UpdatePolicyBody;
    response: EnvironmentPolicy;
  }>(),
  'POST /api/v1/apps/:app/environments/:env/policy/pause': route<{
    body: PolicyPauseBody;
    response: EnvironmentPolicy;
  }>(),
  'POST /api/v1/apps/:app/environments/:env/policy/resume': route<{
    body: PolicyPauseBody;
    response: EnvironmentPolicy;
  }>(),

  // Live scaling and autoscaling (docs/scaling.md).
  'POST /api/v1/apps/:app/environments/:env/scale': route<{ body: ScaleBody; response: ScaleResult }>(),
  'GET /api/v1/apps/:app/environments/:env/autoscale': route<{ response: AutoscalePolicyResult }>(),
  'PUT /api/v1/apps/:app/environments/:env/autoscale': route<{
    body: AutoscalePolicyBody;
    response: AutoscalePolicyResult;
  }>(),
  'GET /api/v1/apps/:app/environments/:env/autoscale/decisions': route<{
    query: PageQuery;
    response: List<ScalingDecision>;
  }>(),

  // Releases.
  'GET /api/v1/apps/:app/releases': route<{ query: PageQuery; response: List<Release> }>(),
  'GET /api/v1/apps/:app/releases/:version': route<{ response: Release }>(),
  'POST /api/v1/apps/:app/releases': route<{ body: CreateReleaseBody; response: Release }>(),

  // Configuration.
  'GET /api/v1/apps/:app/environments/:env/config': route<{ response: ConfigVersion }>(),
  'PUT /api/v1/apps/:app/environments/:env/config': route<{ body: PutConfigBody; response: ConfigVersion }>(),
  'GET /api/v1/apps/:app/environments/:env/config/versions': route<{
    query: PageQuery;
    response: List<ConfigVersion>;
  }>(),
  'GET /api/v1/apps/:app/environments/:env/config/versions/:version': route<{ response: ConfigVersion }>(),
  'GET /api/v1/apps/:app/environments/:env/config/diff': route<{
    query: ConfigVersionDiffQuery;
    response: ConfigDiff;
  }>(),
  'GET /api/v1/apps/:app/config/diff': route<{ query: ConfigEnvironmentDiffQuery; response: ConfigDiff }>(),
  // Drift, parity and hooks (docs/configuration.md, docs/hooks.md).
  'POST /api/v1/apps/:app/environments/:env/config/rollout': route<{
    body: ConfigRolloutBody;
    response: Deployment;
  }>(),
  'GET /api/v1/apps/:app/parity': route<{ query: ParityQuery; response: EnvironmentParity }>(),
  'GET /api/v1/apps/:app/environments/:env/hooks': route<{ response: EnvironmentHooks }>(),
  'PUT /api/v1/apps/:app/environments/:env/hooks': route<{
    body: PutHooksBody;
    response: EnvironmentHooks;
  }>(),
  'PUT /api/v1/apps/:app/job-launcher': route<{ body: PutJobLauncherBody; response: PutJobLauncherBody }>(),
  'GET /api/v1/deployments/:id/hooks': route<{ response: List<HookRun> }>(),
  'GET /api/v1/deployments/:id/hooks/:runId/logs': route<{ query: InstanceLogQuery; response: HookRunLog }>(),
  'GET /api/v1/apps/:app/environments/:env/promotion-preview': route<{ response: PromotionPreview }>(),

  // Deployments.
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
  'POST /api/v1/deployments/:id/redeploy': route<{ body: RedeployBody; response: Deployment }>(),
  'POST /api/v1/apps/:app/environments/:env/promote': route<{ body: PromoteBody; response: Deployment }>(),
  // 202 when it performs a waiting blue-green switch, 200 otherwise.
  'POST /api/v1/apps/:app/environments/:env/traffic': route<{ body: TrafficBody; response: Environment }>(),
  'POST /api/v1/apps/:app/environments/:env/rollback': route<{ body: RollbackBody; response: Deployment }>(),

  // Observation. `follow: true` turns the instance log into an NDJSON stream: read it through `url()`.
  // Monitoring (docs/monitoring.md).
  'GET /api/v1/prometheus/targets': route<{ response: PrometheusTargets }>(),
  'GET /api/v1/apps/:app/dora': route<{ response: DoraReport }>(),
  'GET /api/v1/apps/:app/environments/:env/metrics': route<{
    query: MetricsQuery;
    response: EnvironmentMetrics;
  }>(),
  'GET /api/v1/apps/:app/environments/:env/traffic-provider': route<{ response: TrafficProviderStatus }>(),
  'GET /api/v1/apps/:app/environments/:env/instances/:id/logs': route<{
    query: InstanceLogQuery;
    response: InstanceLog;
  }>(),
  'GET /api/v1/deployments/:id/eta': route<{ response: DeploymentEtaResponse }>(),
  'GET /api/v1/deployments/:id/events': route<{ response: List<DeploymentLogEntry> }>(),
};
export type ApiRoutes = typeof ROUTES;

export type RouteKey = keyof ApiRoutes;
/** The routes that answer JSON: what `call()` and `respond()` take. */
export type JsonRouteKey = { [K in RouteKey]: ApiRoutes[K] extends { accept: string } ? never : K }[RouteKey];
export type RouteResponse<K extends RouteKey> = ApiRoutes[K]['response'];

/** `/apps/:app/environments/:env` → `{ app: string; env: string }`. */
export type PathParams<P extends string> = P extends `${string}:${infer Name}/${infer Rest}`
  ? { [K in Name | keyof PathParams<`/${Rest}`>]: string }
  : P extends `${string}:${infer Name}`
    ? { [K in Name]: string }
    : Record<never, never>;

type PathOf<K extends string> = K extends `${string} ${infer P}` ? P : never;

type ParamsOption<K extends RouteKey> = keyof PathParams<PathOf<K>> extends never
  ? { params?: undefined }
  : { params: PathParams<PathOf<K>> };
type BodyOption<R> = R extends { body: infer B }
  ? { body: B }
  : 'body' extends keyof R
    ? { body?: R[keyof R & 'body'] }
    : { body?: undefined };
type QueryOption<R> = R extends { query: infer Q } ? { query?: Q } : { query?: undefined };

export type CallOptions<K extends RouteKey> = ParamsOption<K> &
  BodyOption<ApiRoutes[K]> &
  QueryOption<ApiRoutes[K]> &
  Omit<RequestOptions, 'body' | 'query'>;

type RequiredKeys<T> = { [K in keyof T]-?: undefined extends T[K] ? never : K }[keyof T];
type OptionalIfEmpty<T> = RequiredKeys<T> extends never ? [options?: T] : [options: T];
/** The arguments after the route key: the options, optional when nothing in them is required. */
export type CallArgs<K extends RouteKey> = OptionalIfEmpty<CallOptions<K>>;
export type UrlArgs<K extends RouteKey> = OptionalIfEmpty<
  ParamsOption<K> & Pick<QueryOption<ApiRoutes[K]>, 'query'>
>;

/** Fills `:name` segments (URL-encoded). */
export function routePath(pattern: string, params: Record<string, string> = {}): string {
  return pattern.replace(/:([A-Za-z]+)/g, (_, name: string) => {
    const value = params[name];
    if (value === undefined) throw new Error(`missing path parameter ${name} for ${pattern}`);
    return encodeURIComponent(value);
  });
}

/** `'GET /api/v1/apps/:app'` → its method and its path with the parameters filled in. */
function resolve(route: RouteKey, params?: Record<string, string>): { method: Method; path: string } {
  const space = route.indexOf(' ');
  return { method: route.slice(0, space) as Method, path: routePath(route.slice(space + 1), params) };
}

/** `call('GET /api/v1/apps/:app/environments', { params: { app } })`, typed by the route. */
export function createApi(http: HttpClient) {
  async function respond<K extends JsonRouteKey>(route: K, ...[options]: CallArgs<K>) {
    const { params, body, query, ...rest } = ((options as unknown) ?? {}) as {
      params?: Record<string, string>;
      body?: unknown;
      query?: Query;
    } & RequestOptions;
    const { method, path } = resolve(route, params);
    return http.request<RouteResponse<K>>(method, path, {
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
    call: <K extends JsonRouteKey>(route: K, ...options: CallArgs<K>) =>
      respond(route, ...options).then((r) => r.data),
    /** The address of a route, for what is not read as one JSON answer (a download, a stream). */
    url: <K extends RouteKey>(route: K, ...[options]: UrlArgs<K>): string => {
      const { params, query } = (options ?? {}) as { params?: Record<string, string>; query?: Query };
      return buildUrl(http.baseUrl, resolve(route, params).path, query);
    },
  };
}
export type Api = ReturnType<typeof createApi>;

export type SessionCredential = Extract<Credential, { kind: 'session' }>;

/**
 * Signs in with a username and password (`POST /auth/login`, no credential sent) and returns the
 * session as a credential (its cookie and CSRF token) with who signed in.
 */
export async function signIn(
  http: HttpClient,
  who: LoginBody,
): Promise<{ credential: SessionCredential; me: LoginResult }> {
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
