import type { RouterConfig, RouterConfigState } from '../router/config.ts';
import type { PoolWindowStats } from '../router/stats.ts';

/** Requests answered through one pool (or all of them) since the provider's process started. */
export interface TrafficCounts {
  requests: number;
  /** 5xx answers, including the router's own for a failed connection or response. */
  errors: number;
  /** Requests in flight (or queued) now, when the provider knows it. */
  inFlight?: number;
}

/** What `parseRouterTotals` gives the orchestrator, with the same figures per pool. */
export interface TrafficTotals extends TrafficCounts {
  pools: Record<string, TrafficCounts>;
}

/** One upstream as the provider sees it, for providers that health-check their targets. */
export interface TargetHealth {
  pool: string;
  /** `host:port`, as in the routing table. */
  target: string;
  /** `ready`: takes traffic by weight; `drain`: finishing in-flight requests; `maint`: out. */
  state: 'ready' | 'drain' | 'maint';
  /** The provider's own health check passes. */
  up: boolean;
  /** The provider's last check result, e.g. `L7OK`, `L4CON`. */
  check: string;
}

export interface TrafficHealth {
  /** The router process answers and serves. */
  ok: boolean;
  /** The traffic port is bound; false while a router started to take over waits for it. */
  listening?: boolean;
  pid: number;
  /** Revision of the routing table in force. */
  revision: number;
  /** Per target, when `capabilities.checksTargets`; null otherwise. */
  targets: TargetHealth[] | null;
}

/** The router process of an environment, once started or adopted. */
export interface TrafficProcess {
  pid: number;
  /** Where the environment's traffic goes, e.g. `http://127.0.0.1:9100`. */
  address: string;
}

export interface TrafficProviderCapabilities {
  /** The router process outlives the control plane and can be adopted by a later one. */
  survivesControlPlaneRestart: boolean;
  /** The provider health-checks targets itself (`health().targets`). */
  checksTargets: boolean;
  /** `windowStats` is available: per-pool figures over a time window, with latency percentiles. */
  windowStats: boolean;
}

/**
 * What the orchestrator needs from the traffic router of one environment (DESIGN.md §4): the
 * embedded Node router, HAProxy, … A provider object is bound to one environment (its ports and
 * directory are options of its constructor); it is cheap and may be created again at any time, the
 * state lives in the router process and its files.
 */
export interface TrafficProvider {
  readonly kind: string;
  readonly capabilities: TrafficProviderCapabilities;
  /** The environment's stable address (known before the process runs). */
  readonly address: string;
  /** The process started or adopted by this object, or null. */
  readonly pid: number | null;

  /**
   * Starts the router process, detached: it outlives the caller. Fails when the port is taken. It
   * serves `initial` from its first request when given (a handover from another provider, whose
   * saved table may be old), else the table it saved last.
   */
  start(initial?: RouterConfig): Promise<TrafficProcess>;
  /** Re-attaches to a router process started earlier (by any control plane); null when none answers. */
  adopt(): Promise<TrafficProcess | null>;
  /** Cheap (no network): a router process of ours is alive for this environment. */
  isRunning(): boolean;
  /**
   * Cheap (no network): the pid of a router process of ours for this environment that `adopt` did
   * not find answering — one still starting, say, left by a control plane that crashed while it
   * started it. Null when there is none. Providers without processes of their own leave it out.
   */
  unanswered?(): number | null;
  /** Graceful (in-flight requests finish), forced after `timeoutMs`. Idempotent. */
  stop(timeoutMs?: number): Promise<void>;

  health(): Promise<TrafficHealth>;
  getConfig(): Promise<RouterConfigState>;
  /**
   * Applies a routing table. Atomic for new requests: each one goes by the old split or by the new
   * one; in-flight requests finish on their upstream. Targets no longer in the table stop receiving
   * new requests.
   */
  setConfig(config: RouterConfig): Promise<RouterConfigState>;
  /**
   * Resolves true once no request is in flight to any of `targets` (before their instances are
   * stopped); false if they are still busy at the deadline.
   */
  waitDrained(targets: string[], timeoutMs?: number): Promise<boolean>;
  /** Request and error counters, all pools and per pool (counters restart with the process). */
  totals(): Promise<TrafficTotals>;
  /** Per-pool figures over the last `windowMs`, when `capabilities.windowStats`. */
  windowStats?(windowMs: number): Promise<PoolWindowStats[]>;
  /**
   * Where a split is only as fine as whole instances (Kubernetes replica ratio): each pool's share
   * of what the last `setConfig` made serve; null when the weights are served as given.
   */
  servedShares?(): Record<string, ServedShare> | null;
}

/** A pool's share of the requests when whole instances decide it: `pods` of `ofPods` ready ones. */
export interface ServedShare {
  pods: number;
  ofPods: number;
  /** `pods / ofPods`, in percent (one decimal). */
  percent: number;
}
