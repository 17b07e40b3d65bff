// What the services ask of the orchestrator, and all they know of it. The orchestrator
// (src/orchestrator) implements it; services (src/services) depend on this interface only, so
// neither imports the other: routes → services → (repositories in @qubot/db, this port) ←
// orchestrator, and both build the API's shapes with src/views.
import type { RuntimeInfo } from '@qubot/api-contract';
import type { Command, DeploymentEvent, DeploymentState } from '@qubot/core';
import type { AuditInput, LockedDeployment, Tx } from '@qubot/db';

/** Router totals (all pools) at one moment: what a deployment counts its requests from. */
export interface TrafficSample {
  requests: number;
  errors: number;
}

export interface ApplyOptions {
  now?: number;
  /** Audit entry for a person's action; written only when the action is accepted. */
  audit?: AuditInput;
  /** Runtime facts that must commit with the result (instance rows, environment traffic). */
  effects?: (tx: Tx, row: LockedDeployment) => Promise<void>;
  /** Router totals now; counted into requestsServed/requestsFailed while the deployment runs. */
  traffic?: TrafficSample | null;
  /** The first event of a deployment created in this transaction (`deployment.created`). */
  created?: boolean;
}

export type ApplyResult =
  | { kind: 'applied'; state: DeploymentState; commands: Command[] }
  | { kind: 'rejected'; message: string; state: DeploymentState }
  | { kind: 'ignored'; message: string; state: DeploymentState }
  | { kind: 'missing' };

export interface OrchestratorPort {
  /**
   * The runtime driver instances run under and what it can do (enforced limits, …), as this
   * process's driver sees the machine it runs on — the worker's, in the default single process —
   * and every runtime in use (this machine, each enrolled host, Kubernetes).
   */
  runtimeInfo(): Promise<RuntimeInfo>;
  /** Ask a worker to drive the deployment (after the commit that gave it work). */
  wake(deploymentId: string): Promise<void>;
  /** Apply an event to a deployment inside the caller's transaction (engine.ts). */
  applyIn(tx: Tx, deploymentId: string, event: DeploymentEvent, opts?: ApplyOptions): Promise<ApplyResult>;
  /** Append `deployment.*` / `environment.updated` with the full views; call last in a transaction. */
  announce(tx: Tx, deploymentId: string | null, environmentId: string, created?: boolean): Promise<void>;
  /**
   * Make sure the environment's traffic router runs (may take seconds: never inside a transaction).
   * This and `syncRouting` run in a worker — the process that holds the runtime: here when this
   * process is one, else through a job a worker takes (ROUTING_QUEUE); they reject with the
   * worker's error, or when no worker took the job in time.
   */
  ensureRouter(environmentId: string): Promise<void>;
  /**
   * Push to the environment's router the routing the database describes now; one push at a time
   * per environment, so a later push never lands before an earlier one.
   */
  syncRouting(environmentId: string): Promise<void>;
  /**
   * Finish a change of traffic provider committed as `routerStatus: handover` (in a worker, as
   * `ensureRouter`): the old router stops gracefully, the new one starts on the same port.
   */
  handoverRouter(environmentId: string): Promise<void>;
}
