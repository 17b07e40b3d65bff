import type { Database, Prisma } from '@qubot/db';
import { AppError } from '../lib/app-error.ts';
import { requirePermission } from '../lib/permissions.ts';
import type { RequestContext } from '../lib/request-context.ts';

export interface AuditQuery {
  actor?: string | undefined;
  /** Exact action, or a prefix ending in "." (e.g. "deployment."). */
  action?: string | undefined;
  /** Application name: entries whose target is `<app>/…` or `<app>@…`. */
  app?: string | undefined;
  /** Environment name: entries whose target is `<app>/<env>` or `<app>/<env>/…`. */
  env?: string | undefined;
  from?: string | undefined;
  to?: string | undefined;
  /** Leave out `auth.*` entries (sign-ins, sign-outs, lockouts). */
  hideSignIns?: boolean | undefined;
  cursor?: string | undefined;
  limit?: number | undefined;
}

export interface AuditEntryView {
  id: string;
  at: string;
  actor: string;
  role: string | null;
  action: string;
  targetType: string;
  targetId: string | null;
  target: string | null;
  reason: string | null;
  before: unknown;
  after: unknown;
  requestId: string | null;
  clientIp: string | null;
  userAgent: string | null;
  /** Release version of the deployment or release the entry is about. */
  version: string | null;
  deploymentId: string | null;
}

type AuditRow = Prisma.AuditEntryGetPayload<object>;

export function auditView(r: AuditRow): AuditEntryView {
  return {
    id: r.id.toString(),
    at: r.at.toISOString(),
    actor: r.actor,
    role: r.role,
    action: r.action,
    targetType: r.targetType,
    targetId: r.targetId,
    target: r.target,
    reason: r.reason,
    before: r.before ?? null,
    after: r.after ?? null,
    requestId: r.requestId,
    clientIp: r.clientIp,
    userAgent: r.userAgent,
    version: null,
    deploymentId: r.targetType === 'deployment' ? r.targetId : null,
  };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Fill in the release version of a page of entries: two lookups by primary key, never a scan. */
async function withVersions(prisma: Database['prisma'], views: AuditEntryView[]): Promise<AuditEntryView[]> {
  const deploymentIds = [
    ...new Set(views.flatMap((v) => (v.deploymentId && UUID.test(v.deploymentId) ? [v.deploymentId] : []))),
  ];
  const releaseIds = [
    ...new Set(
      views.flatMap((v) =>
        v.targetType === 'release' && v.targetId && UUID.test(v.targetId) ? [v.targetId] : [],
      ),
    ),
  ];
  const [deployments, releases] = await Promise.all([
    deploymentIds.length
      ? prisma.deployment.findMany({
          where: { id: { in: deploymentIds } },
          select: { id: true, release: { select: { version: true } } },
        })
      : [],
    releaseIds.length
      ? prisma.release.findMany({ where: { id: { in: releaseIds } }, select: { id: true, version: true } })
      : [],
  ]);
  const byDeployment = new Map(deployments.map((d) => [d.id, d.release.version]));
  const byRelease = new Map(releases.map((r) => [r.id, r.version]));
  return views.map((v) => ({
    ...v,
    version:
      (v.deploymentId ? byDeployment.get(v.deploymentId) : undefined) ??
      (v.targetType === 'release' && v.targetId ? byRelease.get(v.targetId) : undefined) ??
      null,
  }));
}

// Keyset cursor on (at desc, id desc): [at ISO, id].
function encodeCursor(r: { at: Date; id: bigint }): string {
  return Buffer.from(JSON.stringify([r.at.toISOString(), r.id.toString()])).toString('base64url');
}
function decodeCursor(cursor: string): { at: Date; id: bigint } {
  try {
    const [at, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown[];
    const date = new Date(String(at));
    if (
      typeof at !== 'string' ||
      typeof id !== 'string' ||
      !/^\d{1,19}$/.test(id) ||
      Number.isNaN(date.getTime())
    )
      throw new Error('bad');
    return { at: date, id: BigInt(id) };
  } catch {
    throw AppError.badField('querystring.cursor', 'is malformed');
  }
}

function where(q: AuditQuery): Prisma.AuditEntryWhereInput {
  const and: Prisma.AuditEntryWhereInput[] = [];
  if (q.actor) and.push({ actor: q.actor });
  if (q.action)
    and.push(q.action.endsWith('.') ? { action: { startsWith: q.action } } : { action: q.action });
  if (q.app)
    and.push({ OR: [{ target: { startsWith: `${q.app}/` } }, { target: { startsWith: `${q.app}@` } }] });
  if (q.env) {
    const prefix = q.app ? `${q.app}/${q.env}` : null;
    and.push(
      prefix
        ? { OR: [{ target: prefix }, { target: { startsWith: `${prefix}/` } }] }
        : { OR: [{ target: { endsWith: `/${q.env}` } }, { target: { contains: `/${q.env}/` } }] },
    );
  }
  if (q.hideSignIns) and.push({ NOT: { action: { startsWith: 'auth.' } } });
  if (q.from) and.push({ at: { gte: new Date(q.from) } });
  if (q.to) and.push({ at: { lt: new Date(q.to) } });
  if (q.cursor) {
    const c = decodeCursor(q.cursor);
    // `at <= cursor` lets the index scan start at the cursor; the OR alone would only filter.
    and.push({ at: { lte: c.at } }, { OR: [{ at: { lt: c.at } }, { at: c.at, id: { lt: c.id } }] });
  }
  return { AND: and };
}

const ORDER = [{ at: 'desc' as const }, { id: 'desc' as const }];

/**
 * Cells a spreadsheet would run as a formula get a leading quote (CSV injection). Spreadsheets
 * skip leading whitespace before looking for `=`, so any leading whitespace (space, tab, CR, LF,
 * Unicode spaces) is neutralised too, as are the full-width sign characters some of them accept.
 */
export function csvCell(value: unknown): string {
  let s =
    value === null || value === undefined ? '' : typeof value === 'string' ? value : JSON.stringify(value);
  if (/^[=+\-@\s\uFF0B\uFF0D\uFF1D\uFF20]/u.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

export const CSV_COLUMNS = [
  'id',
  'at',
  'actor',
  'role',
  'action',
  'targetType',
  'targetId',
  'target',
  'reason',
  'before',
  'after',
  'requestId',
  'clientIp',
  'userAgent',
  'version',
  'deploymentId',
] as const satisfies ReadonlyArray<keyof AuditEntryView>;

/** Most rows a CSV export holds; narrow the filters for more. */
export const CSV_MAX_ROWS = 50_000;

/** The audit trail (read side; entries are written by each service in its own transaction). */
export function createAuditService(deps: { db: Pick<Database, 'prisma'> }) {
  const { prisma } = deps.db;
  function checkRange(q: AuditQuery) {
    if (q.from && q.to && new Date(q.from) > new Date(q.to))
      throw AppError.badField('querystring.to', 'must not be before from');
  }
  return {
    async list(
      ctx: RequestContext,
      q: AuditQuery,
    ): Promise<{ items: AuditEntryView[]; nextCursor: string | null }> {
      requirePermission(ctx, 'audit.read');
      checkRange(q);
      const limit = q.limit ?? 50;
      const rows = await prisma.auditEntry.findMany({ where: where(q), orderBy: ORDER, take: limit + 1 });
      const items = rows.slice(0, limit);
      const last = items[items.length - 1];
      return {
        items: await withVersions(prisma, items.map(auditView)),
        nextCursor: rows.length > limit && last ? encodeCursor(last) : null,
      };
    },

    /** The whole filtered trail as CSV (newest first, at most CSV_MAX_ROWS rows). */
    async csv(ctx: RequestContext, q: Omit<AuditQuery, 'cursor' | 'limit'>): Promise<string> {
      requirePermission(ctx, 'audit.read');
      checkRange(q);
      const lines = [CSV_COLUMNS.join(',')];
      let cursor: string | undefined;
      let count = 0;
      while (count < CSV_MAX_ROWS) {
        const take = Math.min(1000, CSV_MAX_ROWS - count);
        const rows = await prisma.auditEntry.findMany({
          where: where({ ...q, cursor }),
          orderBy: ORDER,
          take,
        });
        for (const v of await withVersions(prisma, rows.map(auditView))) {
          lines.push(CSV_COLUMNS.map((c) => csvCell(v[c])).join(','));
        }
        count += rows.length;
        const last = rows[rows.length - 1];
        if (rows.length < take || !last) break;
        cursor = encodeCursor(last);
      }
      return `${lines.join('\r\n')}\r\n`;
    },
  };
}
export type AuditService = ReturnType<typeof createAuditService>;
