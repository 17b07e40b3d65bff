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
  KubeConfig,
  type KubernetesObject,
  KubernetesObjectApi,
  Log,
  PatchStrategy,
  setHeaderOptions,
  type V1Pod,
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

  constructor(private readonly options: KubernetesDriverOptions) {
    this.namespace = options.namespace;
    this.core = options.kubeConfig.makeApiClient(CoreV1Api);
    this.apps = options.kubeConfig.makeApiClient(AppsV1Api);
    this.objects = KubernetesObjectApi.makeApiClient(options.kubeConfig);
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
  }

  close(): void {
    this.pods.stop();
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
      // The pod keeps only its last termination: an OOM counts once until the next one.
      oomKills: oom ? 1 : 0,
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

  /**
   * Points the environment's traffic by weight: all on one colour moves the stable Service's
   * selector to it (blue-green switch) and the preview Service to the other; a split goes to the
   * HTTPRoute's backendRefs (Gateway API), or, without it, puts both colours behind the stable
   * Service so each gets the share of its ready pods (replica ratio).
   */
  async setTraffic(
    environment: string,
    weights: Record<string, number>,
  ): Promise<{ mode: CanaryMode | 'selector' }> {
    const n = namesFor(environment);
    const template = this.templateOf(environment);
    const pools = Object.keys(weights).sort();
    const active = pools.find((p) => weights[p] === 100);
    const idle = pools.find((p) => p !== active) ?? (active === 'blue' ? 'green' : 'blue');
    const mode = await this.detectCanaryMode();
    for (const pool of ['blue', 'green']) {
      await this.apply(
        serviceFor(this.namespace, n.poolService(pool), poolSelector(environment, pool), template, 'pool'),
      );
    }
    if (active) {
      await this.apply(
        serviceFor(this.namespace, n.stableService, poolSelector(environment, active), template, 'stable'),
      );
      await this.apply(
        serviceFor(this.namespace, n.previewService, poolSelector(environment, idle), template, 'preview'),
      );
    } else if (mode === 'replica-ratio') {
      await this.apply(serviceFor(this.namespace, n.stableService, n.selector, template, 'stable'));
    }
    if (mode === 'gateway-api' && this.options.gateway) {
      await this.apply(
        httpRouteFor(
          this.namespace,
          environment,
          Object.fromEntries(['blue', 'green'].map((p) => [p, weights[p] ?? 0])),
          this.options.gateway,
          template.servicePort ?? 80,
        ),
      );
      return { mode };
    }
    return { mode: active ? 'selector' : mode };
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
