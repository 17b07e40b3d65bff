// What `qubot agent` and the control plane say to each other over the agent's one outbound
// websocket (`GET /api/v1/agent/connect`, Bearer: the host's credential). docs/hosts.md.
//
// The control plane sends the host's *desired state* (every instance that should run there), never
// commands: an agent that reconnects after a cut is sent it again and converges — it starts what is
// missing, keeps what runs (same processes), stops what is no longer wanted. The agent reports what
// it runs with every heartbeat (level triggered), and at once after each convergence.
import type { DriverCapabilities, InstanceSpec, InstanceStatus, ResourceUsage } from './types.ts';

/** Close codes the control plane uses; the agent stops reconnecting on the credential ones. */
export const AgentClose = {
  /** Credential unknown or revoked: enrol again with a new token. */
  Revoked: 4401,
  /** Another connection of the same host took over. */
  Replaced: 4409,
} as const;

/** One instance as the agent sees it on its machine: its status, and where it answers. */
export interface AgentInstanceReport extends InstanceStatus {
  environment: string;
  host: string;
  port: number;
  logPath: string;
  config: { version: number; hash: string } | null;
  /** The instance's control-group figures on its host (limit, peak, OOM kills, throttling), if any. */
  usage?: ResourceUsage | null;
}

export interface AgentFigures {
  agentVersion: string;
  /** CPU in use since the previous heartbeat, percent of all cores. */
  cpuPercent: number | null;
  memoryUsedBytes: number | null;
  memoryTotalBytes: number | null;
}

/** An instance the host should run: the spec when the control plane may need it started. */
export interface DesiredInstance {
  id: string;
  /** Present for an instance being started; an instance already running needs none. */
  spec?: InstanceSpec;
}

export type AgentToServer =
  | ({
      type: 'hello';
      address: string;
      instances: AgentInstanceReport[];
      /** What the host's supervisor enforces (cgroups: the environment's CPU and memory limits). */
      capabilities?: DriverCapabilities;
    } & AgentFigures)
  | ({ type: 'heartbeat'; instances: AgentInstanceReport[] } & AgentFigures)
  /** Sent after each convergence with the generation it converged to. */
  | { type: 'report'; generation: number; instances: AgentInstanceReport[] }
  | { type: 'reply'; requestId: string; ok: true; port?: number; lines?: string[] }
  | { type: 'reply'; requestId: string; ok: false; error: string }
  /** New lines of a followed instance log (`follow`), until `unfollow` or the connection ends. */
  | { type: 'lines'; requestId: string; lines: string[] };

export type ServerToAgent =
  | { type: 'welcome'; hostId: string; name: string; heartbeatMs: number }
  | { type: 'desired'; generation: number; instances: DesiredInstance[] }
  | { type: 'allocate'; requestId: string }
  | { type: 'logs'; requestId: string; id: string; lines: number }
  /** Follow the instance's log: a `reply` once following, then `lines` as they are written. */
  | { type: 'follow'; requestId: string; id: string }
  | { type: 'unfollow'; requestId: string };

export function parseMessage<T extends { type: string }>(data: unknown): T | null {
  try {
    const v = JSON.parse(String(data)) as unknown;
    return v && typeof v === 'object' && typeof (v as { type?: unknown }).type === 'string' ? (v as T) : null;
  } catch {
    return null;
  }
}
