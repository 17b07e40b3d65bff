import type { Db } from '../client.ts';
import { afterCursor, newestFirst } from '../cursor.ts';
import { LIVE_INSTANCE_STATUSES } from './instance-repo.ts';

const withCreator = { createdBy: { select: { username: true } }, host: { select: { name: true } } } as const;

export interface HeartbeatFigures {
  agentVersion: string;
  cpuPercent: number | null;
  memoryUsedBytes: number | null;
  memoryTotalBytes: number | null;
}

/**
 * Hosts (table hosts) and their one-time enrolment tokens (enrolment_tokens): only SHA-256 hashes
 * of tokens and agent credentials are stored (docs/hosts.md).
 */
export function createHostRepo(root: Db) {
  return {
    /** Enrolment tokens, newest first, a keyset page. */
    listTokens(limit: number, cursor: string | undefined, db: Db = root) {
      return db.enrolmentToken.findMany({
        where: afterCursor(cursor),
        orderBy: newestFirst,
        take: limit + 1,
        include: withCreator,
      });
    },
    findToken(id: string, db: Db = root) {
      return db.enrolmentToken.findUnique({ where: { id }, include: withCreator });
    },
    createToken(
      data: { name: string; tokenHash: string; prefix: string; createdById: string; expiresAt: Date },
      db: Db = root,
    ) {
      return db.enrolmentToken.create({ data, include: withCreator });
    },
    revokeToken(id: string, db: Db = root) {
      return db.enrolmentToken.update({
        where: { id },
        data: { revokedAt: new Date() },
        include: withCreator,
      });
    },
    /**
     * Uses the token once: one conditional UPDATE, so of concurrent enrolments with the same token
     * exactly one gets its id (PostgreSQL re-checks the condition on the row it waited for).
     */
    async claimToken(tokenHash: string, now: Date, db: Db = root): Promise<{ id: string } | null> {
      const res = await db.enrolmentToken.updateMany({
        where: { tokenHash, usedAt: null, revokedAt: null, expiresAt: { gt: now } },
        data: { usedAt: now },
      });
      if (res.count !== 1) return null;
      return db.enrolmentToken.findUnique({ where: { tokenHash }, select: { id: true } });
    },
    /** Why a token cannot be used (for the error message), null when it does not exist. */
    findTokenByHash(tokenHash: string, db: Db = root) {
      return db.enrolmentToken.findUnique({
        where: { tokenHash },
        select: { id: true, usedAt: true, revokedAt: true, expiresAt: true },
      });
    },
    linkToken(id: string, hostId: string, db: Db = root) {
      return db.enrolmentToken.update({ where: { id }, data: { hostId } });
    },

    createHost(
      data: {
        name: string;
        address: string;
        credentialHash: string;
        credentialPrefix: string;
        capacity: number;
        agentVersion: string;
      },
      db: Db = root,
    ) {
      return db.host.create({ data });
    },
    /** Every host (a fleet is tens of machines, not history), by name. */
    listHosts(db: Db = root) {
      return db.host.findMany({ orderBy: { name: 'asc' } });
    },
    findHost(id: string, db: Db = root) {
      return db.host.findUnique({ where: { id } });
    },
    findHostByName(name: string, db: Db = root) {
      return db.host.findUnique({ where: { name } });
    },
    /** The host an agent's credential belongs to (revoked ones included: the caller refuses them). */
    findByCredentialHash(credentialHash: string, db: Db = root) {
      return db.host.findUnique({ where: { credentialHash } });
    },
    /** Locks the host's row (serialises cordon/drain/revoke with placement). */
    async lockHost(id: string, db: Db) {
      await db.$queryRaw`SELECT id FROM hosts WHERE id = ${id}::uuid FOR UPDATE`;
      return db.host.findUnique({ where: { id } });
    },
    /**
     * Those of `ids` that are draining (neither lost nor revoked: their state would not become
     * `drained`), their rows locked in id order so that two transactions never deadlock on them.
     */
    async lockDraining(ids: string[], db: Db): Promise<string[]> {
      if (ids.length === 0) return [];
      const rows = await db.$queryRaw<{ id: string }[]>`
        SELECT id::text FROM hosts
        WHERE id = ANY(${ids}::uuid[]) AND scheduling = 'draining' AND lost_at IS NULL AND revoked_at IS NULL
        ORDER BY id FOR UPDATE`;
      return rows.map((r) => r.id);
    },
    updateHost(
      id: string,
      data: Partial<{
        scheduling: string;
        revokedAt: Date | null;
        address: string;
        connected: boolean;
        lostAt: Date | null;
        lastSeenAt: Date;
      }>,
      db: Db = root,
    ) {
      return db.host.update({ where: { id }, data });
    },
    heartbeat(id: string, at: Date, figures: HeartbeatFigures, db: Db = root) {
      return db.host.update({
        where: { id },
        data: {
          lastSeenAt: at,
          connected: true,
          lostAt: null,
          agentVersion: figures.agentVersion,
          cpuPercent: figures.cpuPercent,
          memoryUsedBytes:
            figures.memoryUsedBytes === null ? null : BigInt(Math.round(figures.memoryUsedBytes)),
          memoryTotalBytes:
            figures.memoryTotalBytes === null ? null : BigInt(Math.round(figures.memoryTotalBytes)),
        },
      });
    },
    /**
     * Marks lost every host (not yet lost, not revoked) whose last heartbeat is older than
     * `cutoff`; returns them. One UPDATE, so two control planes never both mark the same host.
     */
    markLost(cutoff: Date, now: Date, db: Db = root) {
      return db.$queryRaw<{ id: string; name: string }[]>`
        UPDATE hosts SET lost_at = ${now}, connected = false, updated_at = ${now}
        WHERE lost_at IS NULL AND revoked_at IS NULL AND last_seen_at < ${cutoff}
        RETURNING id, name`;
    },
    /** Live instances per host (index instances(host_id, status)). */
    async instanceCounts(db: Db = root): Promise<Map<string, number>> {
      const rows = await db.instance.groupBy({
        by: ['hostId'],
        where: { hostId: { not: null }, status: { in: LIVE_INSTANCE_STATUSES } },
        _count: { _all: true },
      });
      return new Map(rows.flatMap((r) => (r.hostId ? [[r.hostId, r._count._all] as const] : [])));
    },
    /**
     * The environments with live instances on a host, and how many each (index instances(host_id,
     * status)), with their application and placement: what a drain moves.
     */
    async environmentsOn(hostId: string, db: Db = root) {
      const counts = await db.instance.groupBy({
        by: ['environmentId'],
        where: { hostId, status: { in: LIVE_INSTANCE_STATUSES.filter((st) => st !== 'stopping') } },
        _count: { _all: true },
      });
      const envs = await db.environment.findMany({
        where: { id: { in: counts.map((c) => c.environmentId) } },
        select: { id: true, name: true, placement: true, application: { select: { id: true, name: true } } },
        orderBy: { id: 'asc' },
      });
      const n = new Map(counts.map((c) => [c.environmentId, c._count._all]));
      return envs.map((e) => ({ ...e, instances: n.get(e.id) ?? 0 }));
    },
    /** A host's live instances, with what an agent needs to run them. */
    liveInstancesOn(hostId: string, db: Db = root) {
      return db.instance.findMany({
        where: { hostId, status: { in: LIVE_INSTANCE_STATUSES } },
        include: { release: { select: { version: true, artifact: true } } },
        orderBy: { startedAt: 'asc' },
      });
    },
  };
}
export type HostRepo = ReturnType<typeof createHostRepo>;
