import type { Host, HostScheduling, HostState } from '@qubot/api-contract';
import {
  appendEvent,
  createHostRepo,
  type HostRepo,
  LIVE_INSTANCE_STATUSES,
  type Prisma,
  type Tx,
} from '@qubot/db';

type HostRow = Awaited<ReturnType<HostRepo['findHost']>> & {};
const iso = (d: Date | null) => d?.toISOString() ?? null;

const isScheduling = (v: string): v is HostScheduling =>
  v === 'schedulable' || v === 'cordoned' || v === 'draining';

/**
 * The one state the dashboard shows: what stops a host from taking work comes first. A draining
 * host with no live instance left (when the count is known) is `drained`.
 */
export function hostState(
  h: Pick<HostRow, 'revokedAt' | 'lostAt' | 'scheduling' | 'connected'>,
  instances?: number,
): HostState {
  if (h.revokedAt) return 'revoked';
  if (h.lostAt) return 'lost';
  if (h.scheduling === 'draining') return instances === 0 ? 'drained' : 'draining';
  if (h.scheduling === 'cordoned') return 'cordoned';
  return h.connected ? 'ready' : 'disconnected';
}

export function hostView(h: HostRow, instances: number): Host {
  return {
    id: h.id,
    name: h.name,
    address: h.address,
    state: hostState(h, instances),
    scheduling: isScheduling(h.scheduling) ? h.scheduling : 'schedulable',
    connected: h.connected && !h.lostAt && !h.revokedAt,
    capacity: h.capacity,
    instances,
    agentVersion: h.agentVersion,
    cpuPercent: h.cpuPercent === null ? null : Math.round(h.cpuPercent * 10) / 10,
    memoryUsedBytes: h.memoryUsedBytes === null ? null : Number(h.memoryUsedBytes),
    memoryTotalBytes: h.memoryTotalBytes === null ? null : Number(h.memoryTotalBytes),
    lastSeenAt: iso(h.lastSeenAt),
    lostAt: iso(h.lostAt),
    revokedAt: iso(h.revokedAt),
    enrolledAt: h.enrolledAt.toISOString(),
  };
}

/**
 * Append `host.updated` with the host's view (GET /hosts' item), inside the transaction that
 * changed it: a state change (connected, disconnected, lost, cordoned, drained, revoked) or a
 * heartbeat's figures (at most one per host per `hostEventEveryMs`, docs/hosts.md). Admins only
 * (the `hosts` topic); it belongs to no application.
 */
export async function appendHostUpdated(tx: Tx, hostId: string): Promise<void> {
  const row = await createHostRepo(tx).findHost(hostId, tx);
  if (!row) return;
  // As GET /hosts counts them (index instances(host_id, status)).
  const instances = await tx.instance.count({ where: { hostId, status: { in: LIVE_INSTANCE_STATUSES } } });
  await appendEvent(tx, {
    type: 'host.updated',
    payload: hostView(row, instances) as unknown as Prisma.InputJsonValue,
  });
}

/**
 * Runs `stop` — which ends instances on `hostIds` — in `tx`, and appends `host.updated` for each of
 * those hosts it turned `drained` (draining, and its last live instance gone), so the event commits
 * with the change instead of waiting for a heartbeat. The draining hosts' rows are locked before
 * `stop`: of two transactions ending a host's last instances, the second counts after the first
 * commits, so exactly one sees the host turn drained.
 */
export async function announceDrained<T>(tx: Tx, hostIds: string[], stop: () => Promise<T>): Promise<T> {
  const draining = await createHostRepo(tx).lockDraining([...new Set(hostIds)], tx);
  const live = (hostId: string) =>
    tx.instance.count({ where: { hostId, status: { in: LIVE_INSTANCE_STATUSES } } });
  const before = new Map<string, number>();
  for (const id of draining) before.set(id, await live(id));
  const result = await stop();
  for (const id of draining)
    if ((before.get(id) ?? 0) > 0 && (await live(id)) === 0) await appendHostUpdated(tx, id);
  return result;
}
