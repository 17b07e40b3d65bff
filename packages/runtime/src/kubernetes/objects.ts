// The Kubernetes objects Qubot Deploy owns for one environment, as pure functions of the
// application's pod template, the release and the colour: what is applied is always the whole
// intent of the `qubot-deploy` field manager (server-side apply), never a diff.

/**
 * What an admin registers per application for the Kubernetes runtime: the launcher concept as
 * data. The image comes from the release's artifact; there is no command line anywhere.
 */
export interface PodTemplate {
  /** The port the container listens on (targets of the Services, readiness probe). */
  containerPort: number;
  /** Readiness probe path (HTTP GET); default the application's health path. */
  healthPath?: string;
  /** Container arguments, each one word (never a shell line); placeholders are not expanded. */
  args?: string[];
  env?: Record<string, string>;
  serviceAccountName?: string;
  imagePullSecrets?: string[];
  /** Seconds a stopping pod gets to finish its requests; default 30. */
  terminationGracePeriodSeconds?: number;
  /** The stable and preview Services' port; default 80. */
  servicePort?: number;
}

export const FIELD_MANAGER = 'qubot-deploy';
export const LABELS = {
  name: 'app.kubernetes.io/name',
  managedBy: 'app.kubernetes.io/managed-by',
  environment: 'qubot.dev/environment',
  color: 'qubot.dev/color',
  release: 'qubot.dev/release',
  instance: 'qubot.dev/instance',
} as const;
export const DELETION_COST = 'controller.kubernetes.io/pod-deletion-cost';
/** How long a terminating pod keeps serving before SIGTERM (its preStop sleep). */
export const PRESTOP_SLEEP_SECONDS = 2;

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
/** A label value: 63 characters of `[A-Za-z0-9._-]`, alphanumeric at both ends. */
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

export class KubernetesObjectError extends Error {
  override name = 'KubernetesObjectError';
}

export function labelValue(v: string, what: string): string {
  if (v.length > 63 || !LABEL_VALUE.test(v)) {
    throw new KubernetesObjectError(`${what} ${JSON.stringify(v)} is not a valid Kubernetes label value`);
  }
  return v;
}

/** The object names of one environment (`<app>/<env>`), checked as DNS labels. */
export function namesFor(environment: string) {
  const [app, env] = environment.split('/');
  if (!app || !env)
    throw new KubernetesObjectError(`environment ${JSON.stringify(environment)} is not <app>/<env>`);
  const base = `${app}-${env}`.toLowerCase();
  if (base.length > 50 || !DNS_LABEL.test(base)) {
    throw new KubernetesObjectError(
      `${base} is not a valid Kubernetes name (DNS label, at most 50 characters)`,
    );
  }
  return {
    app,
    env,
    base,
    deployment: (pool: string) => `${base}-${pool}`,
    stableService: base,
    previewService: `${base}-preview`,
    poolService: (pool: string) => `${base}-${pool}-pool`,
    route: base,
    selector: { [LABELS.name]: app, [LABELS.environment]: env } as Record<string, string>,
  };
}

export function poolSelector(environment: string, pool: string): Record<string, string> {
  return { ...namesFor(environment).selector, [LABELS.color]: pool };
}

export const selectorString = (labels: Record<string, string>) =>
  Object.entries(labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');

export interface DeploymentInput {
  environment: string;
  pool: string;
  version: string;
  image: string;
  template: PodTemplate;
  healthPath: string;
  resources?: { memoryMb?: number; cpus?: number };
  /** The environment's configuration, passed as environment variables. */
  config?: Record<string, string>;
}

/** One Deployment per colour; `replicas` is left to the scale subresource (not owned by apply). */
export function deploymentFor(namespace: string, d: DeploymentInput) {
  const n = namesFor(d.environment);
  const selector = poolSelector(d.environment, labelValue(d.pool, 'pool'));
  const labels = {
    ...selector,
    [LABELS.managedBy]: 'qubot-deploy',
    [LABELS.release]: labelValue(d.version, 'version'),
  };
  const env = { ...d.template.env, ...d.config, QUBOT_VERSION: d.version, QUBOT_POOL: d.pool };
  const grace = d.template.terminationGracePeriodSeconds ?? 30;
  const preStopSeconds = grace > 2 ? PRESTOP_SLEEP_SECONDS : 0;
  const limits: Record<string, string> = {};
  if (d.resources?.memoryMb) limits.memory = `${d.resources.memoryMb}Mi`;
  if (d.resources?.cpus) limits.cpu = `${Math.round(d.resources.cpus * 1000)}m`;
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: n.deployment(d.pool), namespace, labels },
    spec: {
      selector: { matchLabels: selector },
      // The controller's own rollout is never used: the strategies move instances between colours.
      strategy: { type: 'Recreate' },
      template: {
        metadata: { labels },
        spec: {
          ...(d.template.serviceAccountName ? { serviceAccountName: d.template.serviceAccountName } : {}),
          ...(d.template.imagePullSecrets?.length
            ? { imagePullSecrets: d.template.imagePullSecrets.map((name) => ({ name })) }
            : {}),
          terminationGracePeriodSeconds: grace,
          containers: [
            {
              name: 'app',
              image: d.image,
              // Endpoint removal reaches every node's proxy a moment after the pod starts terminating:
              // the container keeps serving that moment before it is sent SIGTERM (kubelet sleep action).
              ...(preStopSeconds > 0
                ? { lifecycle: { preStop: { sleep: { seconds: preStopSeconds } } } }
                : {}),
              ...(d.template.args?.length ? { args: d.template.args } : {}),
              ports: [{ name: 'http', containerPort: d.template.containerPort }],
              env: Object.entries(env)
                .sort(([a], [b]) => a.localeCompare(b))
                .map(([name, value]) => ({ name, value })),
              readinessProbe: {
                httpGet: { path: d.template.healthPath ?? d.healthPath, port: d.template.containerPort },
                periodSeconds: 2,
                failureThreshold: 2,
              },
              ...(Object.keys(limits).length ? { resources: { limits, requests: limits } } : {}),
            },
          ],
        },
      },
    },
  };
}

export function serviceFor(
  namespace: string,
  name: string,
  selector: Record<string, string>,
  template: PodTemplate,
  role: 'stable' | 'preview' | 'pool',
) {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name,
      namespace,
      labels: { [LABELS.managedBy]: 'qubot-deploy', 'qubot.dev/service-role': role },
    },
    spec: {
      selector,
      ports: [{ name: 'http', port: template.servicePort ?? 80, targetPort: template.containerPort }],
    },
  };
}

/** Canary weights through the Gateway API: one rule, a backendRef per colour's Service. */
export function httpRouteFor(
  namespace: string,
  environment: string,
  weights: Record<string, number>,
  gateway: { name: string; namespace?: string },
  port = 80,
) {
  const n = namesFor(environment);
  return {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: { name: n.route, namespace, labels: { [LABELS.managedBy]: 'qubot-deploy' } },
    spec: {
      parentRefs: [{ name: gateway.name, ...(gateway.namespace ? { namespace: gateway.namespace } : {}) }],
      rules: [
        {
          backendRefs: Object.entries(weights)
            .sort(([a], [b]) => a.localeCompare(b))
            .map(([pool, weight]) => ({ name: n.poolService(pool), port, weight })),
        },
      ],
    },
  };
}
