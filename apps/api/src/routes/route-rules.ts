// THE authorization table: every API route → the lowest role that may call it
// ('public' = no credentials). authorization.test.ts builds the app, lists its
// routes, and fails for any route missing here (or any rule without a route),
// then checks every route × every role × no credentials against this table.
//
// Adding a route? Add its line. When the route needs a valid body (or real
// path values) to get past validation to the service's permission check, give
// a sample in `body` / `url`; otherwise `:app` → qubot-one, `:env` →
// development (unprotected), `:id` → a random UUID, `:version` → 1.0.0.
import { randomUUID } from 'node:crypto';
import type { RoleName } from '../lib/request-context.ts';

export type RouteRule =
  | RoleName
  | 'public'
  | {
      min: RoleName | 'public';
      /** Concrete URL to call (default: the pattern with sample values). */
      url?: string;
      /** A valid body, so the request reaches the permission check. */
      body?: unknown;
      /** The call ends the session it uses (logout): use a fresh one each time. */
      freshSession?: boolean;
    };

const inADay = () => new Date(Date.now() + 86_400_000).toISOString();
const inTwoDays = () => new Date(Date.now() + 2 * 86_400_000).toISOString();

export const ROUTE_RULES: Record<string, RouteRule> = {
  'GET /healthz': 'public',
  'GET /readyz': 'public',

  // Sessions (docs/security.md).
  'POST /api/v1/auth/login': { min: 'public', body: { username: 'viewer', password: 'demo-viewer' } },
  'POST /api/v1/auth/logout': { min: 'viewer', freshSession: true },
  'GET /api/v1/auth/me': 'viewer',
  'POST /api/v1/auth/password': {
    min: 'viewer',
    body: { currentPassword: 'not-the-password', newPassword: 'a-brand-new-password' },
  },
  'GET /api/v1/auth/demo-users': 'public',
  'GET /api/v1/auth/options': 'public',

  // People and machines.
  'GET /api/v1/users': 'admin',
  'POST /api/v1/users': { min: 'admin', body: { username: 'matrix-user', role: 'viewer' } },
  'PATCH /api/v1/users/:id': { min: 'admin', body: { displayName: 'Matrix' } },
  'GET /api/v1/tokens': 'admin',
  'POST /api/v1/tokens': { min: 'admin', body: { name: 'matrix', role: 'viewer', expiresInDays: 1 } },
  'DELETE /api/v1/tokens/:id': 'admin',

  // Hosts and their agents (docs/hosts.md). Enrolment spends a one-time token instead of a session.
  'GET /api/v1/hosts': 'admin',
  'GET /api/v1/hosts/:id': 'admin',
  'POST /api/v1/hosts/:id/:action': { min: 'admin', url: `/api/v1/hosts/${randomUUID()}/cordon`, body: {} },
  'GET /api/v1/hosts/enrolment-tokens': 'admin',
  'POST /api/v1/hosts/enrolment-tokens': { min: 'admin', body: { name: 'matrix' } },
  'DELETE /api/v1/hosts/enrolment-tokens/:id': 'admin',
  'POST /api/v1/agent/enrol': { min: 'public', body: {} },
  'GET /api/v1/agent/connect': 'public',

  // Backups of Qubot Deploy's own database (docs/backup.md).
  'GET /api/v1/backups': 'admin',
  'GET /api/v1/backups/status': 'admin',
  'POST /api/v1/backups': { min: 'admin', body: {} },
  'GET /api/v1/backups/:id': { min: 'admin', url: '/api/v1/backups/qb-missing' },
  'POST /api/v1/backups/:id/verify': { min: 'admin', url: '/api/v1/backups/qb-missing/verify', body: {} },
  'POST /api/v1/backups/:id/restore': {
    min: 'admin',
    url: '/api/v1/backups/qb-missing/restore',
    body: { database: 'qubot_matrix_restore' },
  },

  // Outgoing webhooks (docs/webhooks.md): release-manager; the private-address setting: admin.
  'GET /api/v1/apps/:app/webhooks': 'release-manager',
  'POST /api/v1/apps/:app/webhooks': {
    min: 'release-manager',
    // Refused past the permission check (private address, setting off): still shows the role.
    body: { name: 'matrix', url: 'http://127.0.0.1:9/hook', events: ['deployment.created'] },
  },
  'GET /api/v1/apps/:app/webhooks/:id': 'release-manager',
  'PATCH /api/v1/apps/:app/webhooks/:id': { min: 'release-manager', body: { enabled: false } },
  'DELETE /api/v1/apps/:app/webhooks/:id': 'release-manager',
  'GET /api/v1/apps/:app/webhooks/:id/deliveries': 'release-manager',
  'POST /api/v1/apps/:app/webhooks/:id/deliveries/:delivery/redeliver': {
    min: 'release-manager',
    get url() {
      return `/api/v1/apps/qubot-one/webhooks/${randomUUID()}/deliveries/${randomUUID()}/redeliver`;
    },
  },
  'GET /api/v1/settings/webhooks': 'admin',
  'PUT /api/v1/settings/webhooks': { min: 'admin', body: { allowPrivateTargets: false } },

  // Audit trail: release-managers and admins (viewers and deployers do not see who did what).
  'GET /api/v1/audit': 'release-manager',
  'GET /api/v1/audit.csv': 'release-manager',

  // Catalogue and environments.
  'GET /api/v1/apps': 'viewer',
  // Registering an application sets the command the worker runs (DESIGN §4): admin only.
  'POST /api/v1/apps': {
    min: 'admin',
    body: {
      name: 'matrix-app',
      launcher: 'node server.js --port {port}',
      environments: [{ name: 'development' }],
    },
  },
  // Replicas: release-manager; protection and approval: admin (application-admin-router.test.ts).
  'PATCH /api/v1/apps/:app/environments/:env/settings': { min: 'release-manager', body: { replicas: 3 } },
  // Per-instance limits (vertical scaling): release-manager, like replicas.
  'PUT /api/v1/apps/:app/environments/:env/resources': { min: 'release-manager', body: { memoryMb: 256 } },
  'GET /api/v1/runtime': 'viewer',
  // Where a canary's analysis reads its figures: an admin setting (it points the worker at a URL).
  'GET /api/v1/apps/:app/environments/:env/analysis-provider': 'viewer',
  'PUT /api/v1/apps/:app/environments/:env/analysis-provider': { min: 'admin', body: { provider: 'router' } },
  // Where instances run, and the Kubernetes pod template (docs/kubernetes.md): admin settings.
  'PUT /api/v1/apps/:app/environments/:env/runtime': { min: 'admin', body: { target: 'local' } },
  'PUT /api/v1/apps/:app/pod-template': { min: 'admin', body: { podTemplate: null } },
  // Demo environments only (409 elsewhere, past the permission check): the synthetic load switch.
  'PUT /api/v1/apps/:app/environments/:env/synthetic-load': {
    min: 'release-manager',
    body: { enabled: true },
  },
  // Live scaling and autoscaling (docs/scaling.md): the same permission as the replica count.
  'POST /api/v1/apps/:app/environments/:env/scale': { min: 'release-manager', body: { replicas: 2 } },
  'GET /api/v1/apps/:app/environments/:env/autoscale': 'viewer',
  'PUT /api/v1/apps/:app/environments/:env/autoscale': {
    min: 'release-manager',
    body: { enabled: false, minReplicas: 1, maxReplicas: 3, metric: 'rps', target: 50, cooldownSeconds: 60 },
  },
  'GET /api/v1/apps/:app/environments/:env/autoscale/decisions': 'viewer',
  'GET /api/v1/apps/:app/environments': 'viewer',
  'GET /api/v1/apps/:app/environments/:env': 'viewer',
  'GET /api/v1/apps/:app/environments/:env/freeze-windows': 'viewer',
  'POST /api/v1/apps/:app/environments/:env/freeze-windows': {
    min: 'release-manager',
    get body() {
      return { reason: 'authorization matrix', startsAt: inADay(), endsAt: inTwoDays() };
    },
  },
  'DELETE /api/v1/apps/:app/environments/:env/freeze-windows/:id': 'release-manager',
  // Promotion policies (docs/deployments.md "Promotion policies").
  'GET /api/v1/apps/:app/policies': 'viewer',
  'PUT /api/v1/apps/:app/environments/:env/policy': { min: 'admin', body: { mode: 'manual' } },
  'POST /api/v1/apps/:app/environments/:env/policy/pause': { min: 'release-manager', body: {} },
  'POST /api/v1/apps/:app/environments/:env/policy/resume': { min: 'release-manager', body: {} },

  // Monitoring (docs/monitoring.md): Prometheus service discovery and the DORA figures.
  'GET /api/v1/prometheus/targets': 'viewer',
  'GET /api/v1/apps/:app/dora': 'viewer',

  // Releases.
  'GET /api/v1/apps/:app/releases': 'viewer',
  'GET /api/v1/apps/:app/releases/:version': 'viewer',
  'POST /api/v1/apps/:app/releases': {
    min: 'deployer',
    body: { version: '9.9.9', artifact: 'qubot-one/healthy' },
  },

  // Configuration (docs/configuration.md): read → viewer; write → deployer, release-manager on
  // protected environments (the sample environment is unprotected; config-router.test.ts covers
  // production).
  'GET /api/v1/apps/:app/environments/:env/config': 'viewer',
  'PUT /api/v1/apps/:app/environments/:env/config': {
    min: 'deployer',
    body: { entries: [{ key: 'MATRIX', value: 'authorization' }], comment: 'authorization matrix' },
  },
  'GET /api/v1/apps/:app/environments/:env/config/versions': 'viewer',
  // Drift, parity and hooks (docs/configuration.md, docs/hooks.md).
  'POST /api/v1/apps/:app/environments/:env/config/rollout': { min: 'deployer', body: {} },
  'GET /api/v1/apps/:app/parity': {
    min: 'viewer',
    url: '/api/v1/apps/qubot-one/parity?from=staging&to=production',
  },
  'GET /api/v1/apps/:app/environments/:env/hooks': 'viewer',
  'PUT /api/v1/apps/:app/environments/:env/hooks': { min: 'admin', body: { pre: null, post: null } },
  'PUT /api/v1/apps/:app/job-launcher': { min: 'admin', body: { jobLauncher: null } },
  'GET /api/v1/deployments/:id/hooks': 'viewer',
  'GET /api/v1/deployments/:id/hooks/:runId/logs': {
    min: 'deployer',
    url: `/api/v1/deployments/${randomUUID()}/hooks/${randomUUID()}/logs`,
  },
  'GET /api/v1/apps/:app/environments/:env/config/versions/:version': {
    min: 'viewer',
    url: '/api/v1/apps/qubot-one/environments/development/config/versions/0',
  },
  'GET /api/v1/apps/:app/environments/:env/config/diff': {
    min: 'viewer',
    url: '/api/v1/apps/qubot-one/environments/development/config/diff?from=0&to=0',
  },
  'GET /api/v1/apps/:app/config/diff': {
    min: 'viewer',
    url: '/api/v1/apps/qubot-one/config/diff?from=staging&to=production',
  },
  'GET /api/v1/apps/:app/environments/:env/promotion-preview': {
    min: 'viewer',
    url: '/api/v1/apps/qubot-one/environments/staging/promotion-preview',
  },

  // Deployments (read side).
  'GET /api/v1/deployments': 'viewer',
  'GET /api/v1/deployments/:id': 'viewer',

  // Deployments (write side; orchestrator). On the unprotected sample environment
  // deployers may deploy and control; protected environments need release-manager
  // (checked in the services and in their own tests).
  'POST /api/v1/apps/:app/environments/:env/deployments': {
    min: 'deployer',
    body: { version: '1.0.0', strategy: 'rolling', reason: 'authorization matrix' },
  },
  'POST /api/v1/deployments/:id/pause': { min: 'deployer', body: {} },
  'POST /api/v1/deployments/:id/resume': { min: 'deployer', body: {} },
  'POST /api/v1/deployments/:id/abort': { min: 'deployer', body: {} },
  'POST /api/v1/deployments/:id/advance': { min: 'deployer', body: {} },
  'POST /api/v1/deployments/:id/approve': { min: 'release-manager', body: {} },
  // Deploys again what a past deployment shipped: the rules of a deploy (deployer, unprotected).
  'POST /api/v1/deployments/:id/redeploy': { min: 'deployer', body: {} },
  'POST /api/v1/apps/:app/environments/:env/promote': { min: 'release-manager', body: {} },
  'POST /api/v1/apps/:app/environments/:env/traffic': {
    min: 'release-manager',
    body: { activeColor: 'blue' },
  },
  'POST /api/v1/apps/:app/environments/:env/rollback': { min: 'release-manager', body: {} },

  // Observation (docs/dashboard.md). Instance logs may hold sensitive output: deployer and up
  // (release-manager on protected environments).
  'GET /api/v1/apps/:app/environments/:env/metrics': 'viewer',
  'GET /api/v1/apps/:app/environments/:env/traffic-provider': 'viewer',
  'GET /api/v1/apps/:app/environments/:env/instances/:id/logs': 'deployer',
  'GET /api/v1/deployments/:id/eta': 'viewer',
  'GET /api/v1/deployments/:id/events': 'viewer',

  // Live events (websocket; a plain GET still authenticates first).
  'GET /api/v1/events': 'viewer',
};

/** Routes outside /api/v1 that the table must also cover (the rest are the web app's static files). */
export const COVERED_OUTSIDE_API = ['/healthz', '/readyz'];

/** A concrete URL for a route pattern: :app → qubot-one, :env → development, :version → 1.0.0, :id → a random UUID. */
export function sampleUrl(pattern: string): string {
  return pattern
    .replaceAll(':app', 'qubot-one')
    .replaceAll(':env', 'development')
    .replaceAll(':version', '1.0.0')
    .replace(/:id\b/g, () => randomUUID());
}
