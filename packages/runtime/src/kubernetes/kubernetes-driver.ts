// The Kubernetes runtime driver: instances are pods of one Deployment per colour
// (`<app>-<env>-blue|green`), through the official @kubernetes/client-node — server-side apply
// for the objects, the scale subresource for replica counts, a watch cache (resumed from its
// resourceVersion) for every read. An instance is a pod the driver claimed with its instance id
// label; stopping one marks it cheapest to delete (`pod-deletion-cost`) and scales its Deployment
// down by one, so the ReplicaSet controller removes exactly that pod. Health is pod readiness
// (the kubelet's probe). Traffic: a stable Service whose selector moves to the active colour, a
// preview Service on the idle one, and canary weights through an HTTPRoute when the cluster
// serves the Gateway API, otherwise by replica ratio (both colours behind the stable Service).
import { PassThrough } from 'node:stream';
import {
  AppsV1Api,
  CoreV1Api,
  DiscoveryV1Api,
  KubeConfig,
  type KubernetesObject,
  KubernetesObjectApi,
  Log,
  PatchStrategy,
  setHeaderOptions,
  type V1EndpointSlice,
  type V1Pod,
  type V1Service,
} from '@kubernetes/client-node';
import type {
  AdoptableRecord,
  AdoptResult,
  DriverCapabilities,
  HealthResult,
  InstanceAddress,
  InstanceRecord,
  InstanceSpec,
  InstanceStatus,
  ProbeTarget,
  ResourceUsage,
  ResuperviseResult,
  RuntimeDriver,
  StopOptions,
  WaitHealthyResult,
} from '../types.ts';
import {
  DELETION_COST,
  deploymentFor,
  FIELD_MANAGER,
  httpRouteFor,
  LABELS,
  namesFor,
  type PodTemplate,
  poolSelector,
  selectorString,
  serviceFor,
} from './objects.ts';
import { WatchCache } from './watch-cache.ts';

/** Where the driver's cluster credentials come from (an admin setting; never echoed). */
export type KubernetesCredentials =
  | { source: 'in-cluster' }
  | { source: 'kubeconfig'; path: string; context?: string };

export function kubeConfigFrom(credentials: KubernetesCredentials): KubeConfig {
  const kc = new KubeConfig();
  if (credentials.source === 'in-cluster') kc.loadFromCluster();
  else {
    kc.loadFromFile(credentials.path);
    if (credentials.context) kc.setCurrentContext(credentials.context);
  }
  return kc;
}

/** How canary weights reach the cluster. */
export type CanaryMode = 'gateway-api' | 'replica-ratio';

/** An HTTPRoute as the watch sees it: its generation and the Gateway's report on it. */
interface HttpRouteObject extends KubernetesObject {
  status?: { parents?: { conditions?: { type: string; status: string; observedGeneration?: number }[] }[] };
}

/** The routing table a traffic change carries to the cluster, kept on the stable Service. */
export const ROUTING_ANNOTATION = 'qubot.dev/routing';

/** What the cluster was seen to serve after a routing change (`route`). */
export interface ClusterRouting {
  mode: CanaryMode | 'selector';
  /** The stable Service's resourceVersion the watch saw back. */
  resourceVersion: string;
  /** Ready endpoints of the stable Service (`ip:port`), as its EndpointSlices publish them. */
  endpoints: string[];
  /** The stable Service's address: `http://<clusterIP>:<port>`. */
  address: string;
  /** Ready endpoints per colour: with both behind the Service, each colour's share of the requests. */
  byColor: Record<string, number>;
}

export interface KubernetesDriverOptions {
  kubeConfig: KubeConfig;
  namespace: string;
  /** The application's registered pod template, by application name. */
  podTemplate: (application: string) => PodTemplate | null;
  /** The Gateway the HTTPRoutes attach to (Gateway API mode). */
  gateway?: { name: string; namespace?: string };
  /** Upper bound on waiting for a pod (scheduled, address) in `start`. */
  startTimeoutMs?: number;
}

const isReady = (p: V1Pod) =>
  p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
const terminating = (p: V1Pod) => Boolean(p.metadata?.deletionTimestamp);
/** The label an EndpointSlice carries naming its Service. */
const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';
const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

export class KubernetesDriver implements RuntimeDriver {
  readonly kind = 'kubernetes';
  readonly capabilities: DriverCapabilities = {
    hosts: 'cluster',
    survivesControlPlaneRestart: true,
    // Limits go on the pod (resources.limits) and the node's kubelet enforces them.
    cgroups: true,
    cgroupVersion: null,
    cgroupsUnavailable: null,
  };
  readonly namespace: string;
  private readonly core: CoreV1Api;
  private readonly apps: AppsV1Api;
  private readonly objects: KubernetesObjectApi;
  readonly pods: WatchCache<V1Pod>;
  private readonly locks = new Map<string, Promise<unknown>>();
  private readonly known = new Map<string, InstanceRecord>();
  private canaryMode: CanaryMode | null = null;
  private readonly discovery: DiscoveryV1Api;
  private trafficWatch: {
    services: WatchCache<V1Service>;
    slices: WatchCache<V1EndpointSlice>;
    routes: WatchCache<HttpRouteObject> | null;
  } | null = null;
  /** OOM kills seen per pod: each new termination with reason OOMKilled as restartCount grows. */
  private readonly ooms = new Map<string, { restarts: number; kills: number }>();

  constructor(private readonly options: KubernetesDriverOptions) {
    this.namespace = options.namespace;
    this.core = options.kubeConfig.makeApiClient(CoreV1Api);
    this.apps = options.kubeConfig.makeApiClient(AppsV1Api);
    this.objects = KubernetesObjectApi.makeApiClient(options.kubeConfig);
    this.discovery = options.kubeConfig.makeApiClient(DiscoveryV1Api);
    this.pods = new WatchCache<V1Pod>(
      options.kubeConfig,
      `/api/v1/namespaces/${this.namespace}/pods`,
      `${LABELS.managedBy}=qubot-deploy`,
      () =>
        this.core.listNamespacedPod({
          namespace: this.namespace,
          labelSelector: `${LABELS.managedBy}=qubot-deploy`,
        }),
    );
    this.pods.on('change', () => this.countOoms());
  }

  close(): void {
    this.pods.stop();
    this.trafficWatch?.services.stop();
    this.trafficWatch?.slices.stop();
    this.trafficWatch?.routes?.stop();
  }

  /**
   * Kubernetes keeps only a container's last termination: every OOM kill is counted when it is
   * seen, as the restart count grows with `lastState.terminated.reason: OOMKilled`. A pod first
   * seen with an OOM as its last termination counts that one (earlier ones are not knowable).
   */
  private countOoms() {
    for (const [name, pod] of this.pods.items) {
      const cs = pod.status?.containerStatuses?.[0];
      if (!cs) continue;
      const restarts = cs.restartCount ?? 0;
      const oom = cs.lastState?.terminated?.reason === 'OOMKilled';
      const seen = this.ooms.get(name);
      if (!seen) this.ooms.set(name, { restarts, kills: oom ? 1 : 0 });
      else if (restarts > seen.restarts) {
        seen.restarts = restarts;
        if (oom) seen.kills++;
      }
    }
    for (const name of this.ooms.keys()) if (!this.pods.items.has(name)) this.ooms.delete(name);
  }

  /** One change at a time per Deployment (a scale is read-modify-write of its replica count). */
  private serial<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.locks.get(key) ?? Promise.resolve();
    const next = prev.then(fn, fn);
    this.locks.set(
      key,
      next.catch(() => {}),
    );
    return next;
  }

  /** Server-side apply of the whole intent of the `qubot-deploy` field manager; forced (we own these objects). */
  async apply<T extends KubernetesObject>(obj: T): Promise<T & KubernetesObject> {
    return (await this.objects.patch(
      obj,
      undefined,
      undefined,
      FIELD_MANAGER,
      true,
      PatchStrategy.ServerSideApply,
    )) as T & KubernetesObject;
  }

  private async cache() {
    await this.pods.start();
    return this.pods;
  }

  private podOf(id: string): V1Pod | null {
    for (const p of this.pods.items.values()) if (p.metadata?.labels?.[LABELS.instance] === id) return p;
    return null;
  }

  private recordOf(pod: V1Pod, spec?: Partial<InstanceSpec>): InstanceRecord {
    const labels = pod.metadata?.labels ?? {};
    const port = pod.spec?.containers?.[0]?.ports?.[0]?.containerPort ?? 8080;
    const host = pod.status?.podIP ?? '';
    const id = spec?.instanceId ?? labels[LABELS.instance] ?? '';
    return {
      id,
      environment: spec?.environment ?? `${labels[LABELS.name]}/${labels[LABELS.environment]}`,
      pool: labels[LABELS.color] ?? '',
      version: labels[LABELS.release] ?? '',
      artifact: pod.spec?.containers?.[0]?.image ?? '',
      host,
      port,
      url: `http://${host}:${port}`,
      target: `${host}:${port}`,
      // A pod has no supervisor process on this machine: the kubelet supervises it.
      supervisorPid: 0,
      pid: null,
      logPath: `pod/${this.namespace}/${pod.metadata?.name}`,
      statusPath: `pod/${this.namespace}/${pod.metadata?.name}`,
      healthPath: pod.spec?.containers?.[0]?.readinessProbe?.httpGet?.path ?? '/healthz',
      startedAt: (pod.status?.startTime ? new Date(pod.status.startTime) : new Date()).toISOString(),
      config: spec?.config ? { version: spec.config.version, hash: '' } : null,
    };
  }

  /** A pod's address is known only once it runs: the row records a placeholder, then the pod's. */
  async allocateAddress(): Promise<InstanceAddress> {
    return { host: '0.0.0.0', port: 0 };
  }

  async start(spec: InstanceSpec): Promise<InstanceRecord> {
    const n = namesFor(spec.environment);
    const template = spec.podTemplate ?? this.options.podTemplate(n.app);
    if (!template) throw new Error(`application ${n.app} has no pod template registered for Kubernetes`);
    const name = n.deployment(spec.pool);
    const pods = await this.cache();
    const claimed = await this.serial(name, async () => {
      const mine = this.podOf(spec.instanceId);
      if (mine) return mine;
      const selector = poolSelector(spec.environment, spec.pool);
      const inPool = () =>
        [...pods.items.values()].filter(
          (p) => Object.entries(selector).every(([k, v]) => p.metadata?.labels?.[k] === v) && !terminating(p),
        );
      const others = inPool().filter(
        (p) => p.metadata?.labels?.[LABELS.instance] && p.metadata.labels[LABELS.release] !== spec.version,
      );
      if (others.length > 0) {
        throw new Error(
          `${name} still runs instances of ${others[0]?.metadata?.labels?.[LABELS.release]}; stop them before starting ${spec.version} there`,
        );
      }
      await this.apply(
        deploymentFor(this.namespace, {
          environment: spec.environment,
          pool: spec.pool,
          version: spec.version,
          image: spec.artifact,
          template,
          healthPath: spec.healthPath ?? '/healthz',
          ...(spec.resources ? { resources: spec.resources } : {}),
          ...(spec.config ? { config: spec.config.values } : {}),
        }),
      );
      const want = inPool().filter((p) => p.metadata?.labels?.[LABELS.instance]).length + 1;
      await this.scale(name, want);
      // An unclaimed pod of this release (a new one, or one a crashed start left behind) becomes ours.
      for (let attempt = 0; ; attempt++) {
        const free = await pods.waitFor(
          (items) =>
            items.find(
              (p) =>
                p.metadata?.labels?.[LABELS.color] === spec.pool &&
                p.metadata?.labels?.[LABELS.environment] === n.env &&
                p.metadata?.labels?.[LABELS.name] === n.app &&
                p.metadata?.labels?.[LABELS.release] === spec.version &&
                !p.metadata?.labels?.[LABELS.instance] &&
                !terminating(p),
            ) ?? null,
          this.options.startTimeoutMs ?? 60_000,
          `a pod of ${name}`,
        );
        try {
          // The resourceVersion makes the claim conditional: two claimers, one wins (409 for the other).
          return await this.core.patchNamespacedPod(
            {
              name: free.metadata?.name as string,
              namespace: this.namespace,
              body: {
                metadata: {
                  resourceVersion: free.metadata?.resourceVersion,
                  labels: { [LABELS.instance]: spec.instanceId },
                },
              },
            },
            mergePatch,
          );
        } catch (err) {
          if ((err as { code?: number }).code !== 409 || attempt > 20) throw err;
        }
      }
    });
    const running = await pods.waitFor(
      (items) => {
        const p = items.find((x) => x.metadata?.name === claimed.metadata?.name);
        if (!p) throw new Error(`pod ${claimed.metadata?.name} was deleted while starting`);
        // Our claim is in the cache too (every later lookup goes by it), and the pod has its address.
        return p.status?.podIP && p.metadata?.labels?.[LABELS.instance] === spec.instanceId ? p : null;
      },
      this.options.startTimeoutMs ?? 60_000,
      `pod ${claimed.metadata?.name} to get an address`,
    );
    const rec = this.recordOf(running, spec);
    this.known.set(rec.id, rec);
    return rec;
  }

  private async scale(deployment: string, replicas: number) {
    await this.apps.patchNamespacedDeploymentScale(
      {
        name: deployment,
        namespace: this.namespace,
        body: { spec: { replicas } },
        fieldManager: FIELD_MANAGER,
      },
      mergePatch,
    );
  }

  async stop(
    instance: Pick<InstanceRecord, 'id'> & Partial<InstanceRecord>,
    options?: StopOptions,
  ): Promise<void> {
    const pods = await this.cache();
    const pod = this.podOf(instance.id);
    this.known.delete(instance.id);
    if (!pod) return;
    const labels = pod.metadata?.labels ?? {};
    const deployment =
      `${labels[LABELS.name]}-${labels[LABELS.environment]}-${labels[LABELS.color]}`.toLowerCase();
    const podName = pod.metadata?.name as string;
    await this.serial(deployment, async () => {
      const now = pods.items.get(podName);
      if (!now || terminating(now)) return;
      await this.core.patchNamespacedPod(
        {
          name: podName,
          namespace: this.namespace,
          body: { metadata: { annotations: { [DELETION_COST]: '-1000000' } } },
        },
        mergePatch,
      );
      const claimed = [...pods.items.values()].filter(
        (p) =>
          p.metadata?.labels?.[LABELS.instance] &&
          !terminating(p) &&
          ['name', 'environment', 'color'].every(
            (k) => p.metadata?.labels?.[LABELS[k as 'name']] === labels[LABELS[k as 'name']],
          ),
      );
      await this.scale(deployment, Math.max(0, claimed.length - 1));
    });
    const grace = (pod.spec?.terminationGracePeriodSeconds ?? 30) * 1000;
    await pods
      .waitFor(
        (items) => (items.some((p) => p.metadata?.name === podName) ? null : true),
        Math.max(options?.timeoutMs ?? 0, grace) + 10_000,
        `pod ${podName} to go`,
      )
      .catch(() => {});
  }

  async stopAll(environment: string): Promise<void> {
    const n = namesFor(environment);
    for (const pool of ['blue', 'green']) {
      await this.serial(n.deployment(pool), async () => {
        await this.apps
          .deleteNamespacedDeployment({ name: n.deployment(pool), namespace: this.namespace })
          .catch(() => {});
      });
    }
  }

  async status(instance: Pick<InstanceRecord, 'id'>): Promise<InstanceStatus> {
    await this.cache();
    const pod = this.podOf(instance.id);
    const cs = pod?.status?.containerStatuses?.[0];
    const last = cs?.lastState?.terminated;
    const running = Boolean(cs?.state?.running) && !terminating(pod as V1Pod);
    const oom = last?.reason === 'OOMKilled';
    return {
      id: instance.id,
      state: !pod
        ? 'stopped'
        : terminating(pod)
          ? 'stopping'
          : running
            ? 'running'
            : cs?.state?.waiting
              ? 'backoff'
              : 'starting',
      alive: running,
      supervisorPid: null,
      // The kubelet is the supervisor: as long as the pod exists, someone restarts its container.
      supervisorAlive: Boolean(pod) && !terminating(pod as V1Pod),
      pid: null,
      restarts: cs?.restartCount ?? 0,
      lastExitCode: last?.exitCode ?? null,
      lastExitSignal: last?.signal ? `SIG${last.signal === 9 ? 'KILL' : last.signal}` : null,
      lastExitReason: last ? (oom ? 'oom' : last.signal ? 'signal' : 'exit') : null,
      oomKills: pod ? (this.ooms.get(pod.metadata?.name ?? '')?.kills ?? (oom ? 1 : 0)) : 0,
      lastOom: oom
        ? {
            at: new Date(last?.finishedAt ?? Date.now()).toISOString(),
            limitBytes: memoryBytes(pod?.spec?.containers?.[0]?.resources?.limits?.memory),
            peakBytes: null,
          }
        : null,
      startedAt: pod?.status?.startTime ? new Date(pod.status.startTime).toISOString() : null,
      updatedAt: new Date().toISOString(),
    };
  }

  async resupervise(id: string): Promise<ResuperviseResult | null> {
    await this.cache();
    const pod = this.podOf(id);
    if (!pod || terminating(pod)) return null;
    return { record: this.recordOf(pod), adopted: true };
  }

  /** Pod readiness (the kubelet's probe) is the health gate. */
  async checkHealth(target: ProbeTarget): Promise<HealthResult> {
    const t0 = Date.now();
    await this.cache();
    const pod = this.podOf(target.id);
    const healthy = Boolean(pod) && !terminating(pod as V1Pod) && isReady(pod as V1Pod);
    return {
      id: target.id,
      healthy,
      status: null,
      error: healthy ? null : pod ? 'pod not ready' : 'no such pod',
      latencyMs: Date.now() - t0,
    };
  }

  async waitHealthy(
    targets: ProbeTarget[],
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<WaitHealthyResult> {
    const pods = await this.cache();
    const ok = await pods
      .waitFor(
        () =>
          targets.every((t) => {
            const p = this.podOf(t.id);
            return p && isReady(p);
          })
            ? true
            : null,
        timeoutMs,
        'pods ready',
        signal,
      )
      .catch(() => false);
    return { ok, results: await Promise.all(targets.map((t) => this.checkHealth(t))) };
  }

  async adopt(records: AdoptableRecord[]): Promise<AdoptResult[]> {
    await this.cache();
    return records.map((r) => {
      const pod = this.podOf(r.id);
      if (!pod || terminating(pod)) {
        return {
          id: r.id,
          alive: false,
          answering: false,
          healthy: false,
          record: null,
          error: 'no such pod',
        };
      }
      const record = this.recordOf(pod);
      this.known.set(r.id, record);
      const ready = isReady(pod);
      return { id: r.id, alive: true, answering: ready, healthy: ready, record, error: null };
    });
  }

  async logs(instance: Pick<InstanceRecord, 'id'>, lines = 200): Promise<string[]> {
    await this.cache();
    const pod = this.podOf(instance.id);
    if (!pod) return [];
    const text = await this.core.readNamespacedPodLog({
      name: pod.metadata?.name as string,
      namespace: this.namespace,
      container: 'app',
      tailLines: lines,
    });
    return String(text).split('\n').filter(Boolean);
  }

  /** Follows a pod's log live (`follow=true`); resolves once the stream is open. */
  async followLogs(
    instance: Pick<InstanceRecord, 'id'>,
    onLine: (line: string) => void,
    signal: AbortSignal,
    tailLines = 0,
  ): Promise<void> {
    await this.cache();
    const pod = this.podOf(instance.id);
    if (!pod) throw new Error(`no pod for instance ${instance.id}`);
    const stream = new PassThrough();
    let rest = '';
    stream.on('data', (buf: Buffer) => {
      const parts = (rest + buf.toString('utf8')).split('\n');
      rest = parts.pop() ?? '';
      for (const l of parts) if (l) onLine(l);
    });
    const ctl = await new Log(this.options.kubeConfig).log(
      this.namespace,
      pod.metadata?.name as string,
      'app',
      stream,
      {
        follow: true,
        tailLines,
      },
    );
    signal.addEventListener('abort', () => ctl.abort(), { once: true });
  }

  localLogFile(): string | null {
    return null;
  }

  list(environment?: string): InstanceRecord[] {
    return [...this.known.values()].filter((r) => !environment || r.environment === environment);
  }

  resourceUsage(): ResourceUsage | null {
    return null;
  }

  // --- Traffic: Services and HTTPRoutes -----------------------------------------------------

  /** Gateway API when the cluster serves HTTPRoutes (discovery), else replica ratios. */
  async detectCanaryMode(): Promise<CanaryMode> {
    if (this.canaryMode) return this.canaryMode;
    try {
      await this.objects.list('gateway.networking.k8s.io/v1', 'HTTPRoute', this.namespace);
      this.canaryMode = this.options.gateway ? 'gateway-api' : 'replica-ratio';
    } catch {
      this.canaryMode = 'replica-ratio';
    }
    return this.canaryMode;
  }

  private templateOf(environment: string): PodTemplate {
    const n = namesFor(environment);
    const t = this.options.podTemplate(n.app);
    if (!t) throw new Error(`application ${n.app} has no pod template registered for Kubernetes`);
    return t;
  }

  /** Watches of the traffic objects (Services, their EndpointSlices, HTTPRoutes), started once. */
  private async trafficCaches() {
    if (!this.trafficWatch) {
      const ns = this.namespace;
      const managed = `${LABELS.managedBy}=qubot-deploy`;
      const mode = await this.detectCanaryMode();
      this.trafficWatch = {
        services: new WatchCache<V1Service>(
          this.options.kubeConfig,
          `/api/v1/namespaces/${ns}/services`,
          managed,
          () => this.core.listNamespacedService({ namespace: ns, labelSelector: managed }),
        ),
        slices: new WatchCache<V1EndpointSlice>(
          this.options.kubeConfig,
          `/apis/discovery.k8s.io/v1/namespaces/${ns}/endpointslices`,
          SERVICE_NAME_LABEL,
          () =>
            this.discovery.listNamespacedEndpointSlice({ namespace: ns, labelSelector: SERVICE_NAME_LABEL }),
        ),
        routes:
          mode === 'gateway-api'
            ? new WatchCache<HttpRouteObject>(
                this.options.kubeConfig,
                `/apis/gateway.networking.k8s.io/v1/namespaces/${ns}/httproutes`,
                managed,
                () =>
                  this.objects.list<HttpRouteObject>(
                    'gateway.networking.k8s.io/v1',
                    'HTTPRoute',
                    ns,
                    undefined,
                    undefined,
                    undefined,
                    undefined,
                    managed,
                  ),
              )
            : null,
      };
    }
    const w = this.trafficWatch;
    await Promise.all([w.services.start(), w.slices.start(), w.routes?.start()]);
    return w;
  }

  /** Ready endpoints (`ip:port`) of a Service, from the EndpointSlices the watch has. */
  private readyEndpoints(slices: Iterable<V1EndpointSlice>, service: string): string[] {
    const out: string[] = [];
    for (const sl of slices) {
      if (sl.metadata?.labels?.[SERVICE_NAME_LABEL] !== service) continue;
      const port = sl.ports?.[0]?.port ?? 80;
      for (const e of sl.endpoints ?? []) {
        if (e.conditions?.ready) for (const a of e.addresses) out.push(`${a}:${port}`);
      }
    }
    return out.sort();
  }

  /**
   * Points the environment's traffic by weight and resolves once the cluster has observed it: one
   * colour with all the traffic moves the stable Service's selector to it (blue-green switch) and
   * the preview Service to the other; a split puts both colours behind the stable Service (replica
   * ratio: each colour gets the share of its ready pods) and, in Gateway API mode, sets the
   * HTTPRoute's backendRefs weights; no colour with weight selects no pod. `routing` (the table
   * in force, JSON) is kept as an annotation on the stable Service. Observed means: the applied
   * Service (and HTTPRoute) seen back through the watch at its resourceVersion, the HTTPRoute's
   * generation accepted by the Gateway, and the stable Service's ready endpoints all pods of the
   * intended colours, at least one of each (`targets`: the pods expected, `ip:port`).
   */
  async route(
    environment: string,
    weights: Record<string, number>,
    opts: { routing?: string; targets?: Record<string, string[]>; timeoutMs?: number } = {},
  ): Promise<ClusterRouting> {
    const n = namesFor(environment);
    const template = this.templateOf(environment);
    const on = ['blue', 'green'].filter((p) => (weights[p] ?? 0) > 0);
    const mode = await this.detectCanaryMode();
    const w = await this.trafficCaches();
    for (const pool of ['blue', 'green']) {
      await this.apply(
        serviceFor(this.namespace, n.poolService(pool), poolSelector(environment, pool), template, 'pool'),
      );
    }
    const selector =
      on.length === 1
        ? poolSelector(environment, on[0] as string)
        : on.length === 2
          ? n.selector
          : // No colour carries traffic: the Service selects no pod (nothing is served, as a router with no pool).
            poolSelector(environment, 'none');
    const stable = serviceFor(this.namespace, n.stableService, selector, template, 'stable');
    const applied = await this.apply({
      ...stable,
      metadata: {
        ...stable.metadata,
        ...(opts.routing ? { annotations: { [ROUTING_ANNOTATION]: opts.routing } } : {}),
      },
    });
    if (on.length === 1) {
      const idle = on[0] === 'blue' ? 'green' : 'blue';
      await this.apply(
        serviceFor(this.namespace, n.previewService, poolSelector(environment, idle), template, 'preview'),
      );
    }
    let route: KubernetesObject | null = null;
    if (mode === 'gateway-api' && this.options.gateway) {
      route = await this.apply(
        httpRouteFor(
          this.namespace,
          environment,
          Object.fromEntries(['blue', 'green'].map((p) => [p, weights[p] ?? 0])),
          this.options.gateway,
          template.servicePort ?? 80,
        ),
      );
    }
    const timeoutMs = opts.timeoutMs ?? 30_000;
    const rv = applied.metadata?.resourceVersion;
    const seen = await w.services.waitFor(
      (items) =>
        items.find((x) => x.metadata?.name === n.stableService && x.metadata.resourceVersion === rv) ?? null,
      timeoutMs,
      `Service ${n.stableService} at resourceVersion ${rv} through the watch`,
    );
    if (route && w.routes) {
      const generation = route.metadata?.generation ?? 1;
      await w.routes.waitFor(
        (items) => {
          const r = items.find((x) => x.metadata?.name === n.route);
          const accepted = r?.status?.parents?.some((p) =>
            p.conditions?.some(
              (c) =>
                c.type === 'Accepted' && c.status === 'True' && (c.observedGeneration ?? 0) >= generation,
            ),
          );
          return accepted ? true : null;
        },
        timeoutMs,
        `HTTPRoute ${n.route} generation ${generation} accepted by the Gateway`,
      );
    }
    // The intended colours' pod addresses (the pods cache): the only ones allowed to be ready endpoints.
    const pods = await this.cache();
    const allowed = (ip: string) =>
      [...pods.items.values()].some(
        (p) =>
          p.status?.podIP === ip &&
          p.metadata?.labels?.[LABELS.name] === n.app &&
          p.metadata?.labels?.[LABELS.environment] === n.env &&
          on.includes(p.metadata?.labels?.[LABELS.color] ?? ''),
      );
    const expected = on.map((pool) => (opts.targets?.[pool] ?? []).map((t) => t.split(':')[0]));
    const endpoints = await w.slices.waitFor(
      (items) => {
        const ready = this.readyEndpoints(items, n.stableService);
        if (!ready.every((e) => allowed(e.split(':')[0] as string))) return null;
        const ips = new Set(ready.map((e) => e.split(':')[0]));
        // Each intended colour with pods expected has at least one of them ready behind the Service.
        if (!expected.every((want) => want.length === 0 || want.some((ip) => ips.has(ip)))) return null;
        return ready;
      },
      timeoutMs,
      `Service ${n.stableService}'s ready endpoints to be the pods of ${on.join(' and ') || 'no colour'}`,
    );
    return {
      byColor: this.colorsOf(endpoints),
      mode: route ? 'gateway-api' : on.length === 2 ? 'replica-ratio' : 'selector',
      resourceVersion: seen.metadata?.resourceVersion ?? '',
      endpoints,
      address: `http://${seen.spec?.clusterIP}:${seen.spec?.ports?.[0]?.port ?? 80}`,
    };
  }

  /** `route` without a table to keep: the weights, observed. */
  async setTraffic(environment: string, weights: Record<string, number>): Promise<{ mode: string }> {
    const r = await this.route(environment, weights);
    return { mode: r.mode };
  }

  /** The stable Service as the watch has it (null before the first routing change). */
  async stableService(environment: string): Promise<V1Service | null> {
    const w = await this.trafficCaches();
    return w.services.items.get(namesFor(environment).stableService) ?? null;
  }

  /** Ready endpoints of the stable Service and of the pods of each colour, from the watches. */
  async servedEndpoints(
    environment: string,
  ): Promise<{ endpoints: string[]; byColor: Record<string, number> }> {
    const w = await this.trafficCaches();
    const n = namesFor(environment);
    const endpoints = this.readyEndpoints(w.slices.items.values(), n.stableService);
    return { endpoints, byColor: this.colorsOf(endpoints) };
  }

  /** Endpoints (`ip:port`) counted by the colour of their pod. */
  private colorsOf(endpoints: string[]): Record<string, number> {
    const byColor: Record<string, number> = { blue: 0, green: 0 };
    const colorOf = new Map<string, string>();
    for (const p of this.pods.items.values()) {
      const c = p.metadata?.labels?.[LABELS.color];
      if (p.status?.podIP && c) colorOf.set(p.status.podIP, c);
    }
    for (const e of endpoints) {
      const c = colorOf.get(e.split(':')[0] as string);
      if (c) byColor[c] = (byColor[c] ?? 0) + 1;
    }
    return byColor;
  }

  /** The stable Service's address (cluster IP and port). */
  async serviceAddress(environment: string, which: 'stable' | 'preview' = 'stable'): Promise<string | null> {
    const n = namesFor(environment);
    const name = which === 'stable' ? n.stableService : n.previewService;
    try {
      const svc = await this.core.readNamespacedService({ name, namespace: this.namespace });
      return `http://${svc.spec?.clusterIP}:${svc.spec?.ports?.[0]?.port ?? 80}`;
    } catch {
      return null;
    }
  }

  /** The colour the stable Service selects now (null: both, or none yet). */
  async activeColor(environment: string): Promise<string | null> {
    const n = namesFor(environment);
    try {
      const svc = await this.core.readNamespacedService({ name: n.stableService, namespace: this.namespace });
      return svc.spec?.selector?.[LABELS.color] ?? null;
    } catch {
      return null;
    }
  }

  /** Label selector of an environment's pods, for operators' kubectl. */
  static selector(environment: string): string {
    return selectorString(namesFor(environment).selector);
  }
}

function memoryBytes(q: string | undefined): number | null {
  if (!q) return null;
  const m = /^(\d+)(Ki|Mi|Gi)?$/.exec(q);
  if (!m) return null;
  const unit = { Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3 }[m[2] as 'Ki'] ?? 1;
  return Number(m[1]) * unit;
}
