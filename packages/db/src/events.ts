import type { Db } from './client.ts';
import type { Prisma } from './generated/client.ts';

export interface NewEvent {
  type: string;
  applicationId?: string | null;
  environmentId?: string | null;
  deploymentId?: string | null;
  payload?: Prisma.InputJsonValue;
}

/**
 * Append an event inside the caller's transaction. Its `seq` comes from the
 * database (qubot_next_event_seq, see docs/architecture.md): gap-free and in
 * commit order. Call it last in a transaction: it holds the counter's row lock
 * until commit.
 */
export async function appendEvent(db: Db, ev: NewEvent) {
  return db.event.create({
    data: {
      type: ev.type,
      applicationId: ev.applicationId ?? null,
      environmentId: ev.environmentId ?? null,
      deploymentId: ev.deploymentId ?? null,
      payload: ev.payload ?? {},
    },
  });
}

export interface EventFilter {
  applicationIds?: string[];
  environmentIds?: string[];
  deploymentIds?: string[];
}

/** Stored events with seq > since that match any of the given topics, in order. */
export async function readEventsSince(db: Db, since: bigint, filter: EventFilter, limit = 1000) {
  const or: Prisma.EventWhereInput[] = [];
  if (filter.applicationIds?.length) or.push({ applicationId: { in: filter.applicationIds } });
  if (filter.environmentIds?.length) or.push({ environmentId: { in: filter.environmentIds } });
  if (filter.deploymentIds?.length) or.push({ deploymentId: { in: filter.deploymentIds } });
  if (!or.length) return [];
  return db.event.findMany({ where: { seq: { gt: since }, OR: or }, orderBy: { seq: 'asc' }, take: limit });
}

export async function lastEventSeq(db: Db): Promise<bigint> {
  const row = await db.eventCounter.findUnique({ where: { id: 1 } });
  return row?.value ?? 0n;
}

/**
 * `pg_notify(channel, payload)`. Inside a transaction the notice goes out when (and only if) it
 * commits.
 */
export async function notify(db: Db, channel: string, payload: string): Promise<void> {
  await db.$executeRawUnsafe('SELECT pg_notify($1, $2)', channel, payload);
}
