// Which runtime driver runs an environment's instances: its `runtimeTarget` (PUT …/runtime). The
// one place the choice is made; each target adds its branch here.
import {
  type AdoptableRecord,
  type AdoptResult,
  type HealthResult,
  type InstanceAddress,
  type InstanceRecord,
  type InstanceSpec,
  type InstanceStatus,
  KubernetesDriver,
  kubeConfigFrom,
  type PlacementRequest,
  type PodTemplate,
  type ProbeTarget,
  type ResourceUsage,
  type ResuperviseResult,
  type RuntimeDriver,
  type StopOptions,
  type WaitHealthyResult,
} from '@qubot/runtime';
import { kubernetesSettingsOf } from '../views/runtime-target-view.ts';

/** The environment columns the choice is made from. */
export interface DriverEnvironment {
  runtimeTarget: string;
  kubernetes: unknown;
  application: { name: string; podTemplate: unknown };
}

export function createDriverFor(deps: { local: RuntimeDriver }) {
  /** One Kubernetes driver (and its pod watch) per namespace and credentials. */
  const kubernetes = new Map<string, KubernetesDriver>();
  /** Pod templates by application, as last read with an environment. */
  const templates = new Map<string, PodTemplate | null>();

  function driverFor(environment: DriverEnvironment): RuntimeDriver {
    if (environment.runtimeTarget === 'kubernetes') {
      const k = kubernetesSettingsOf(environment.kubernetes);
      if (!k) throw new Error('the kubernetes target has no namespace and credentials set');
      templates.set(
        environment.application.name,
        (environment.application.podTemplate as PodTemplate) ?? null,
      );
      const key = JSON.stringify(k);
      let driver = kubernetes.get(key);
      if (!driver) {
        driver = new KubernetesDriver({
          kubeConfig: kubeConfigFrom(k.credentials),
          namespace: k.namespace,
          podTemplate: (app) => templates.get(app) ?? null,
          ...(k.gateway ? { gateway: { name: k.gateway } } : {}),
        });
        kubernetes.set(key, driver);
      }
      return driver;
    }
    return deps.local;
  }

  return {
    driverFor,
    /** Stops every Kubernetes driver's watch (shutdown). */
    close() {
      for (const d of kubernetes.values()) d.close();
      kubernetes.clear();
    },
  };
}
export type DriverFor = ReturnType<typeof createDriverFor>['driverFor'];

/**
 * The orchestrator's one `RuntimeDriver`: each call goes to the driver of the environment the
 * instance belongs to (`driverFor`), found by the instance's environment (`app/env`) or its id.
 * Which driver an instance id is under is remembered once known; after a restart it is read from
 * the database.
 */
export class TargetDriver implements RuntimeDriver {
  private readonly byId = new Map<string, RuntimeDriver>();

  constructor(
    private readonly local: RuntimeDriver,
    private readonly resolve: {
      /** The driver of environment `app/env`. */
      environment(key: string): Promise<RuntimeDriver>;
      /** The driver an instance (by id) runs under; the local one when the row is gone. */
      instance(id: string): Promise<RuntimeDriver>;
    },
  ) {}

  get kind() {
    return this.local.kind;
  }
  get capabilities() {
    return this.local.capabilities;
  }

  private async forId(id: string): Promise<RuntimeDriver> {
    let d = this.byId.get(id);
    if (!d) {
      d = await this.resolve.instance(id);
      this.byId.set(id, d);
    }
    return d;
  }

  private async grouped<T extends { id: string }, R>(
    items: T[],
    run: (d: RuntimeDriver, items: T[]) => Promise<R[]>,
  ): Promise<R[]> {
    const groups = new Map<RuntimeDriver, T[]>();
    for (const item of items) {
      const d = await this.forId(item.id);
      groups.set(d, [...(groups.get(d) ?? []), item]);
    }
    return (await Promise.all([...groups].map(([d, group]) => run(d, group)))).flat();
  }

  allocateAddress(request?: PlacementRequest): Promise<InstanceAddress> {
    // Kubernetes pods get their address when they run; processes are placed here (this machine
    // or an enrolled host, by the request's placement).
    return this.local.allocateAddress(request);
  }
  async start(spec: InstanceSpec): Promise<InstanceRecord> {
    const d = await this.resolve.environment(spec.environment);
    this.byId.set(spec.instanceId, d);
    return d.start(spec);
  }
  async stop(instance: Pick<InstanceRecord, 'id'> & Partial<InstanceRecord>, options?: StopOptions) {
    return (await this.forId(instance.id)).stop(instance, options);
  }
  async stopAll(environment: string, options?: StopOptions) {
    return (await this.resolve.environment(environment)).stopAll(environment, options);
  }
  async status(instance: Pick<InstanceRecord, 'id'>): Promise<InstanceStatus> {
    return (await this.forId(instance.id)).status(instance);
  }
  async resupervise(id: string): Promise<ResuperviseResult | null> {
    return (await this.forId(id)).resupervise(id);
  }
  async checkHealth(target: ProbeTarget, timeoutMs?: number): Promise<HealthResult> {
    return (await this.forId(target.id)).checkHealth(target, timeoutMs);
  }
  async waitHealthy(
    targets: ProbeTarget[],
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<WaitHealthyResult> {
    const parts = await this.grouped(targets, async (d, group) => [
      await d.waitHealthy(group, timeoutMs, signal),
    ]);
    return { ok: parts.every((p) => p.ok), results: parts.flatMap((p) => p.results) };
  }
  adopt(records: AdoptableRecord[]): Promise<AdoptResult[]> {
    return this.grouped(records, (d, group) => d.adopt(group));
  }
  async logs(instance: Pick<InstanceRecord, 'id'>, lines?: number): Promise<string[]> {
    return (await this.forId(instance.id)).logs(instance, lines);
  }
  async followLogs(
    instance: Pick<InstanceRecord, 'id'>,
    onLine: (line: string) => void,
    signal: AbortSignal,
  ): Promise<void> {
    const d = await this.forId(instance.id);
    if (!d.followLogs) throw new Error(`the ${d.kind} driver follows no log stream`);
    return d.followLogs(instance, onLine, signal);
  }
  async setTraffic(environment: string, weights: Record<string, number>): Promise<unknown> {
    const d = await this.resolve.environment(environment);
    return d.setTraffic?.(environment, weights);
  }
  localLogFile(instance: Pick<InstanceRecord, 'id'>): string | null {
    return (this.byId.get(instance.id) ?? this.local).localLogFile(instance);
  }
  list(environment?: string): InstanceRecord[] {
    const drivers = new Set([this.local, ...this.byId.values()]);
    return [...drivers].flatMap((d) => d.list(environment));
  }
  resourceUsage(instance: Pick<InstanceRecord, 'id'>): ResourceUsage | null {
    return (this.byId.get(instance.id) ?? this.local).resourceUsage(instance);
  }
}
