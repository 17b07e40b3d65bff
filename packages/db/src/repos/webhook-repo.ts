import type pg from 'pg';
import type { Db } from '../client.ts';
import { afterCursor, newestFirst } from '../cursor.ts';
import { appendEvent } from '../events.ts';
import type { Prisma, PrismaClient, WebhookDelivery as WebhookDeliveryRow } from '../generated/client.ts';

/** A delivery as a worker claims it (raw row of the claim query). */
export interface ClaimedDelivery {
  id: string;
  webhookId: string;
  eventSeq: bigint;
  eventType: string;
  attempts: number;
  /** The previous claim's lease ran out: the worker delivering it died mid-delivery. */
  takenOver: boolean;
}

export interface DeliveryResult {
  /** delivered | failed, or pending (retry at nextAttemptAt). */
  status: 'delivered' | 'failed' | 'pending';
  nextAttemptAt?: Date;
  statusCode: number | null;
  latencyMs: number | null;
  responseExcerpt: string | null;
  error: string | null;
}

/** Webhooks, their delivery queue and log, and the admin's webhook settings (docs/webhooks.md). */
export function createWebhookRepo(root: Db, pool: pg.Pool) {
  return {
    list(applicationId: string, db: Db = root) {
      return db.webhook.findMany({ where: { applicationId }, orderBy: [{ name: 'asc' }] });
    },
    find(id: string, applicationId: string, db: Db = root) {
      return db.webhook.findFirst({ where: { id, applicationId } });
    },
    findById(id: string, db: Db = root) {
      return db.webhook.findUnique({ where: { id } });
    },
    create(
      data: {
        id: string;
        applicationId: string;
        name: string;
        url: string;
        events: string[];
        format: string;
        enabled: boolean;
        secret: string;
        createdBy: string;
      },
      db: Db = root,
    ) {
      return db.webhook.create({ data });
    },
    /** Only if it still belongs to the application; null when it is gone. */
    async update(
      id: string,
      applicationId: string,
      data: Partial<{ name: string; url: string; events: string[]; format: string; enabled: boolean }>,
      db: Db = root,
    ) {
      const { count } = await db.webhook.updateMany({ where: { id, applicationId }, data });
      return count === 1 ? db.webhook.findUnique({ where: { id } }) : null;
    },
    /** Whether this call deleted it (two concurrent deletes: one true). */
    async delete(id: string, applicationId: string, db: Db = root) {
      const { count } = await db.webhook.deleteMany({ where: { id, applicationId } });
      return count === 1;
    },

    /** One keyset page of a webhook's deliveries, newest first (index webhook_id, created_at, id). */
    deliveries(webhookId: string, cursor: string | undefined, limit: number, db: Db = root) {
      return db.webhookDelivery.findMany({
        where: { webhookId, ...afterCursor(cursor) },
        orderBy: newestFirst,
        take: limit + 1,
      });
    },
    findDelivery(id: string, webhookId: string, db: Db = root) {
      return db.webhookDelivery.findFirst({ where: { id, webhookId } });
    },
    /** A new delivery of the same event; the partial unique index refuses a second open one (P2002). */
    createRedelivery(
      original: { id: string; webhookId: string; eventSeq: bigint; eventType: string },
      requestedBy: string,
      db: Db = root,
    ) {
      return db.webhookDelivery.create({
        data: {
          webhookId: original.webhookId,
          eventSeq: original.eventSeq,
          eventType: original.eventType,
          redeliveryOf: original.id,
          requestedBy,
        },
      });
    },
    event(seq: bigint, db: Db = root) {
      return db.event.findUnique({ where: { seq } });
    },

    async settings(db: Db = root) {
      return (
        (await db.webhookSettings.findUnique({ where: { id: 1 } })) ?? {
          id: 1,
          allowPrivateTargets: false,
          updatedBy: null,
          updatedAt: new Date(0),
        }
      );
    },
    /** The settings row, locked until the transaction ends (concurrent changes see each other's). */
    async lockSettings(db: Db = root): Promise<{ allowPrivateTargets: boolean }> {
      const rows = await db.$queryRawUnsafe<{ allow_private_targets: boolean }[]>(
        'SELECT allow_private_targets FROM webhook_settings WHERE id = 1 FOR UPDATE',
      );
      return { allowPrivateTargets: rows[0]?.allow_private_targets ?? false };
    },
    updateSettings(data: { allowPrivateTargets: boolean; updatedBy: string }, db: Db = root) {
      return db.webhookSettings.upsert({
        where: { id: 1 },
        create: { id: 1, ...data },
        update: { ...data, updatedAt: new Date() },
      });
    },

    /**
     * Claims up to `limit` due deliveries for `worker`: open rows whose next_attempt_at has come
     * (pending ones, and delivering ones whose lease ran out), locked with SKIP LOCKED so two
     * workers never claim the same row. The claim sets the lease (next_attempt_at = now + leaseMs).
     */
    async claim(worker: string, limit: number, leaseMs: number): Promise<ClaimedDelivery[]> {
      const { rows } = await pool.query<{
        id: string;
        webhook_id: string;
        event_seq: string;
        event_type: string;
        attempts: number;
        taken_over: boolean;
      }>(
        `WITH due AS (
           SELECT id, status FROM webhook_deliveries
            WHERE status IN ('pending', 'delivering') AND next_attempt_at <= now()
            ORDER BY next_attempt_at
            LIMIT $2
            FOR UPDATE SKIP LOCKED)
         UPDATE webhook_deliveries d
            SET status = 'delivering', attempts = d.attempts + 1, claimed_by = $1,
                next_attempt_at = now() + make_interval(secs => $3::float8 / 1000),
                error = CASE WHEN due.status = 'delivering'
                             THEN 'the worker delivering it stopped mid-delivery (lease expired)'
                             ELSE d.error END
           FROM due
          WHERE d.id = due.id
          RETURNING d.id, d.webhook_id, d.event_seq, d.event_type, d.attempts,
                    due.status = 'delivering' AS taken_over`,
        [worker, limit, leaseMs],
      );
      return rows.map((r) => ({
        id: r.id,
        webhookId: r.webhook_id,
        eventSeq: BigInt(r.event_seq),
        eventType: r.event_type,
        attempts: r.attempts,
        takenOver: r.taken_over,
      }));
    },

    /** Records an attempt's outcome, only while `worker` still holds the claim. */
    /**
     * Record an attempt's outcome (only while `worker` still holds the claim) and, in the same
     * transaction, append the `webhook.delivery` event `announce` builds from the updated row, so
     * the delivery log updates live (docs/webhooks.md) exactly when the outcome is stored.
     */
    async finish(
      id: string,
      worker: string,
      r: DeliveryResult,
      announce?: (row: WebhookDeliveryRow) => { type: string; applicationId: string; payload: unknown },
    ): Promise<boolean> {
      const prisma = root as PrismaClient;
      return prisma.$transaction(async (tx) => {
        const n = await tx.$executeRawUnsafe(
          `UPDATE webhook_deliveries
              SET status = $3, status_code = $4, latency_ms = $5, response_excerpt = $6, error = $7,
                  next_attempt_at = COALESCE($8, next_attempt_at),
                  finished_at = CASE WHEN $3 = 'pending' THEN NULL ELSE now() END
            WHERE id = $1::uuid AND claimed_by = $2 AND status = 'delivering'`,
          id,
          worker,
          r.status,
          r.statusCode,
          r.latencyMs,
          r.responseExcerpt,
          r.error,
          r.nextAttemptAt ?? null,
        );
        if (n !== 1) return false;
        if (announce) {
          const row = await tx.webhookDelivery.findUniqueOrThrow({ where: { id } });
          const ev = announce(row);
          await appendEvent(tx, {
            type: ev.type,
            applicationId: ev.applicationId,
            payload: ev.payload as Prisma.InputJsonValue,
          });
        }
        return true;
      });
    },
  };
}
export type WebhookRepo = ReturnType<typeof createWebhookRepo>;
