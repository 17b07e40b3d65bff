import type { Db } from '../client.ts';
import { decodeKey, encodeKey, InvalidCursorError } from '../cursor.ts';
import type { Prisma } from '../generated/client.ts';

export type AutoscalePolicyRow = Prisma.AutoscalePolicyGetPayload<object>;
export type ScalingDecisionRow = Prisma.ScalingDecisionGetPayload<object>;

export interface PolicyInput {
  enabled: boolean;
  minReplicas: number;
  maxReplicas: number;
  metric: string;
  target: number;
  cooldownSeconds: number;
  updatedBy: string;
}

export interface DecisionInput {
  environmentId: string;
  action: string;
  fromReplicas: number;
  toReplicas: number;
  metric: string;
  measured: number | null;
  target: number;
  reason: string;
  deploymentId?: string | null;
}

/** Autoscaling policies and the record of their decisions (docs/scaling.md). */
export function createScalingRepo(root: Db) {
  return {
    findPolicy(environmentId: string, db: Db = root) {
      return db.autoscalePolicy.findUnique({ where: { environmentId } });
    },
    upsertPolicy(environmentId: string, data: PolicyInput, db: Db = root) {
      return db.autoscalePolicy.upsert({
        where: { environmentId },
        create: { environmentId, ...data },
        update: data,
      });
    },
    deletePolicy(environmentId: string, db: Db = root) {
      return db.autoscalePolicy.deleteMany({ where: { environmentId } });
    },
    /** Enabled policies with their environment (a few rows: one per environment at most). */
    listEnabled(db: Db = root) {
      return db.autoscalePolicy.findMany({
        where: { enabled: true },
        include: { environment: { include: { application: { select: { name: true } } } } },
      });
    },
    /** The policy row, locked for the evaluator's decision. */
    async lockPolicy(environmentId: string, db: Db) {
      const rows = await db.$queryRaw<{ environment_id: string }[]>`
        SELECT environment_id::text FROM autoscale_policies
         WHERE environment_id = ${environmentId}::uuid FOR UPDATE`;
      return rows.length > 0 ? db.autoscalePolicy.findUnique({ where: { environmentId } }) : null;
    },
    markDecision(
      environmentId: string,
      data: { lastDecisionAt: Date; lastDecisionKey: string; lastScaleAt?: Date },
      db: Db = root,
    ) {
      return db.autoscalePolicy.update({ where: { environmentId }, data });
    },
    recordDecision(data: DecisionInput, db: Db = root) {
      return db.scalingDecision.create({ data });
    },
    /** Up to `take` decisions after `cursor`, newest first (keyset on at, id). */
    listDecisions(environmentId: string, take: number, cursor?: string, db: Db = root) {
      const and: Prisma.ScalingDecisionWhereInput[] = [{ environmentId }];
      if (cursor) {
        const { at, id } = decodeKey(cursor);
        if (!/^\d{1,19}$/.test(id)) throw new InvalidCursorError();
        const n = BigInt(id);
        and.push({ at: { lte: at } }, { OR: [{ at: { lt: at } }, { at, id: { lt: n } }] });
      }
      return db.scalingDecision.findMany({
        where: { AND: and },
        orderBy: [{ at: 'desc' }, { id: 'desc' }],
        take,
      });
    },
    cursorAfter(row: { at: Date; id: bigint }): string {
      return encodeKey(row.at, row.id.toString());
    },
  };
}
export type ScalingRepo = ReturnType<typeof createScalingRepo>;
