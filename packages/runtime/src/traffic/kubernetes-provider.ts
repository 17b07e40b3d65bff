// The traffic provider of an environment whose instances are pods: the cluster is the switch. A
// routing table becomes the stable Service's selector (one colour), both colours behind it (a
// split: replica ratio) and, with the Gateway API, the HTTPRoute's backendRefs weights; a change
// is done once the cluster has observed it (`KubernetesDriver.route`). There is no router process:
// the "process" is the stable Service, its address the environment's address. The table in force
// is kept on that Service (annotation `qubot.dev/routing`), so any worker reads the same one.
import type { KubernetesDriver } from '../kubernetes/kubernetes-driver.ts';
import { ROUTING_ANNOTATION } from '../kubernetes/kubernetes-driver.ts';
import { type RouterConfig, type RouterConfigState, validateRouterConfig } from '../router/config.ts';
import type {
  ServedShare,
  TrafficHealth,
  TrafficProcess,
  TrafficProvider,
  TrafficTotals,
} from './provider.ts';

export interface KubernetesTrafficProviderOptions {
  /** The environment's Kubernetes driver and its `<app>/<env>` key, resolved when first needed. */
  resolve: () => Promise<{ driver: KubernetesDriver; environment: string }>;
  /** The address on record (the stable Service's), until the cluster is asked. */
  address?: string | null;
  /** Upper bound on waiting for the cluster to observe a change; default 30 s. */
  timeoutMs?: number;
}

/** Why a Kubernetes environment has no router figures: the analysis must come from Prometheus. */
export const KUBERNETES_NO_COUNTS =
  'the kubernetes traffic provider counts no requests (the cluster routes them); canary analysis on a kubernetes environment reads a Prometheus analysis source';

function emptyState(): RouterConfigState {
  return { pools: [], revision: 0, updatedAt: new Date(0).toISOString() };
}

export class KubernetesTrafficProvider implements TrafficProvider {
  readonly kind = 'kubernetes';
  readonly capabilities = { survivesControlPlaneRestart: true, checksTargets: false, windowStats: false };
  private currentAddress: string;
  private seen = false;
  private shares: Record<string, ServedShare> | null = null;

  constructor(private readonly options: KubernetesTrafficProviderOptions) {
    this.currentAddress = options.address ?? '';
  }

  get address(): string {
    return this.currentAddress;
  }

  /** No process: the cluster serves the address. */
  get pid(): number | null {
    return null;
  }

  private async stable() {
    const { driver, environment } = await this.options.resolve();
    const svc = await driver.stableService(environment);
    if (svc) {
      this.currentAddress = `http://${svc.spec?.clusterIP}:${svc.spec?.ports?.[0]?.port ?? 80}`;
      this.seen = true;
    }
    return svc;
  }

  /** Creates the Services with `initial` (or no traffic) as the table. */
  async start(initial?: RouterConfig): Promise<TrafficProcess> {
    const state = initial ? await this.setConfig(initial) : await this.getConfig();
    if (!initial && state.revision === 0) await this.setConfig({ pools: [] });
    return { pid: 0, address: this.currentAddress };
  }

  async adopt(): Promise<TrafficProcess | null> {
    return (await this.stable()) ? { pid: 0, address: this.currentAddress } : null;
  }

  isRunning(): boolean {
    return this.seen;
  }

  /** The Services stay: deleting the stable one would give the environment a new address. */
  async stop(): Promise<void> {}

  async health(): Promise<TrafficHealth> {
    const svc = await this.stable();
    const state = await this.getConfig();
    return { ok: Boolean(svc), listening: Boolean(svc), pid: 0, revision: state.revision, targets: null };
  }

  async getConfig(): Promise<RouterConfigState> {
    const svc = await this.stable();
    const text = svc?.metadata?.annotations?.[ROUTING_ANNOTATION];
    if (!text) return emptyState();
    try {
      return JSON.parse(text) as RouterConfigState;
    } catch {
      return emptyState();
    }
  }

  /** Applies the table and resolves once the cluster serves it (see `KubernetesDriver.route`). */
  async setConfig(config: RouterConfig): Promise<RouterConfigState> {
    const table = validateRouterConfig(config);
    const { driver, environment } = await this.options.resolve();
    const state: RouterConfigState = {
      ...table,
      revision: (await this.getConfig()).revision + 1,
      updatedAt: new Date().toISOString(),
    };
    const weights: Record<string, number> = {};
    const targets: Record<string, string[]> = {};
    for (const p of table.pools) {
      weights[p.name] = p.weight;
      targets[p.name] = p.targets;
    }
    const served = await driver.route(environment, weights, {
      routing: JSON.stringify(state),
      targets,
      ...(this.options.timeoutMs ? { timeoutMs: this.options.timeoutMs } : {}),
    });
    this.currentAddress = served.address;
    this.seen = true;
    // Replica ratio: the colours share the requests as their ready pods behind the Service do.
    const all = Object.values(served.byColor).reduce((a, b) => a + b, 0);
    this.shares =
      served.mode === 'replica-ratio' && all > 0
        ? Object.fromEntries(
            Object.entries(served.byColor).map(([pool, pods]) => [
              pool,
              { pods, ofPods: all, percent: Math.round((pods / all) * 1000) / 10 },
            ]),
          )
        : null;
    return state;
  }

  /**
   * True at once: in a cluster, draining is the pod's deletion. The stable Service selects a
   * colour, so a pod being stopped stays selected until the driver deletes it; the cluster then
   * takes the terminating pod out of every EndpointSlice at once (no new request reaches it) and
   * the kubelet gives its in-flight requests the termination grace period before SIGKILL.
   */
  async waitDrained(): Promise<boolean> {
    return true;
  }

  servedShares(): Record<string, ServedShare> | null {
    return this.shares;
  }

  async totals(): Promise<TrafficTotals> {
    throw new Error(KUBERNETES_NO_COUNTS);
  }
}
