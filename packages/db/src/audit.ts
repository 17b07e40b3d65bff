import type { Db } from './client.ts';
import type { Prisma } from './generated/client.ts';

export interface AuditInput {
  actor: string;
  role?: string | null;
  action: string;
  targetType: string;
  targetId?: string | null;
  target?: string | null;
  reason?: string | null;
  before?: Prisma.InputJsonValue | null;
  after?: Prisma.InputJsonValue | null;
  requestId?: string | null;
  clientIp?: string | null;
  userAgent?: string | null;
}

/** Append an audit entry; call it inside the transaction of the action it records. */
export async function appendAudit(db: Db, entry: AuditInput) {
  return db.auditEntry.create({
    data: {
      actor: entry.actor,
      role: entry.role ?? null,
      action: entry.action,
      targetType: entry.targetType,
      targetId: entry.targetId ?? null,
      target: entry.target ?? null,
      reason: entry.reason ?? null,
      before: entry.before ?? undefined,
      after: entry.after ?? undefined,
      requestId: entry.requestId ?? null,
      clientIp: entry.clientIp ?? null,
      userAgent: entry.userAgent ?? null,
    },
  });
}
