import { appendAudit, type EnvironmentRepo, type FreezeRepo, type Transact, type Tx } from '@qubot/db';
import { AppError, ErrorCode } from '../lib/app-error.ts';
import { requirePermission } from '../lib/permissions.ts';
import type { RequestContext } from '../lib/request-context.ts';
import type { CatalogService } from './catalog-service.ts';

/** Weekly rule: on `days` (0 = Sunday) from `start` to `end` ("HH:MM", in `timezone`); end ≤ start runs past midnight. */
export interface Recurrence {
  days: number[];
  start: string;
  end: string;
  timezone: string;
}

export interface FreezeWindowView {
  id: string;
  reason: string;
  startsAt: string | null;
  endsAt: string | null;
  recurrence: Recurrence | null;
  createdBy: string;
  createdAt: string;
  active: boolean;
}

type WindowRow = {
  id: string;
  reason: string;
  startsAt: Date | null;
  endsAt: Date | null;
  recurrence: unknown;
  createdBy: string;
  createdAt: Date;
};

const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const minutes = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

function validTimezone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/** Weekday (0 = Sunday) and minute of the day of `at` in `timezone`. */
function localTime(at: Date, timezone: string): { day: number; minute: number } {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone: timezone,
    weekday: 'short',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(at);
  const get = (t: string) => parts.find((p) => p.type === t)?.value ?? '';
  return { day: WEEKDAYS.indexOf(get('weekday')), minute: Number(get('hour')) * 60 + Number(get('minute')) };
}

export function isActive(w: Pick<WindowRow, 'startsAt' | 'endsAt' | 'recurrence'>, at = new Date()): boolean {
  if (w.startsAt && w.endsAt) return w.startsAt <= at && at < w.endsAt;
  const r = w.recurrence as Recurrence | null;
  if (!r || !Array.isArray(r.days) || !validTimezone(r.timezone)) return false;
  const { day, minute } = localTime(at, r.timezone);
  const s = minutes(r.start);
  const e = minutes(r.end);
  if (s < e) return r.days.includes(day) && minute >= s && minute < e;
  // Overnight (or all-day when start = end): the evening of a listed day, or the morning after it.
  return (r.days.includes(day) && minute >= s) || (r.days.includes((day + 6) % 7) && minute < e);
}

export function freezeWindowView(w: WindowRow, at = new Date()): FreezeWindowView {
  return {
    id: w.id,
    reason: w.reason,
    startsAt: w.startsAt?.toISOString() ?? null,
    endsAt: w.endsAt?.toISOString() ?? null,
    recurrence: (w.recurrence as Recurrence | null) ?? null,
    createdBy: w.createdBy,
    createdAt: w.createdAt.toISOString(),
    active: isActive(w, at),
  };
}

function describe(w: WindowRow): string {
  if (w.endsAt) return `"${w.reason}" (until ${w.endsAt.toISOString()})`;
  const r = w.recurrence as Recurrence;
  return `"${w.reason}" (weekly ${r.days.map((d) => WEEKDAYS[d]).join(',')} ${r.start}-${r.end} ${r.timezone})`;
}

/** Freeze windows block new deployments to an environment, except an admin's audited override. */
export function createFreezeService(deps: {
  transact: Transact;
  windows: Pick<FreezeRepo, 'listCandidates' | 'list' | 'create' | 'find' | 'delete'>;
  environments: Pick<EnvironmentRepo, 'findWithApplicationName'>;
  catalog: Pick<CatalogService, 'requireEnvironment'>;
}) {
  const { transact, windows } = deps;
  /** Freeze windows of an environment active at `at`. */
  async function activeWindows(environmentId: string, at = new Date(), tx?: Tx) {
    const rows = await windows.listCandidates(environmentId, at, tx);
    return rows.filter((r) => isActive(r, at));
  }

  return {
    async list(ctx: RequestContext, appName: string, envName: string) {
      requirePermission(ctx, 'read', { application: appName });
      const { env } = await deps.catalog.requireEnvironment(appName, envName);
      const rows = await windows.list(env.id);
      const now = new Date();
      return { items: rows.map((r) => freezeWindowView(r, now)), nextCursor: null };
    },

    async create(
      ctx: RequestContext,
      appName: string,
      envName: string,
      body: {
        reason: string;
        startsAt?: string | undefined;
        endsAt?: string | undefined;
        recurrence?: Recurrence | undefined;
      },
    ): Promise<FreezeWindowView> {
      requirePermission(ctx, 'freeze.manage', { application: appName });
      const { app, env } = await deps.catalog.requireEnvironment(appName, envName);
      requirePermission(ctx, 'freeze.manage', {
        application: app.name,
        environment: { name: env.name, protected: env.protected },
      });
      const oneOff = body.startsAt !== undefined || body.endsAt !== undefined;
      if (oneOff === (body.recurrence !== undefined))
        throw AppError.badField('body', 'give either startsAt and endsAt, or recurrence');
      let startsAt: Date | null = null;
      let endsAt: Date | null = null;
      if (oneOff) {
        if (!body.startsAt) throw AppError.badField('body.startsAt', 'is required with endsAt');
        if (!body.endsAt) throw AppError.badField('body.endsAt', 'is required with startsAt');
        startsAt = new Date(body.startsAt);
        endsAt = new Date(body.endsAt);
        if (!(endsAt > startsAt)) throw AppError.badField('body.endsAt', 'must be after startsAt');
        if (endsAt <= new Date()) throw AppError.badField('body.endsAt', 'is in the past');
      } else if (body.recurrence && !validTimezone(body.recurrence.timezone)) {
        throw AppError.badField('body.recurrence.timezone', 'is not a known IANA time zone');
      }
      const recurrence = body.recurrence
        ? { ...body.recurrence, days: [...new Set(body.recurrence.days)].sort() }
        : undefined;
      const row = await transact(async (tx) => {
        const created = await windows.create(
          {
            environmentId: env.id,
            reason: body.reason,
            startsAt,
            endsAt,
            ...(recurrence ? { recurrence } : {}),
            createdBy: ctx.actor.name,
          },
          tx,
        );
        await appendAudit(tx, {
          ...ctx.auditFields(),
          action: 'freeze.create',
          targetType: 'freeze_window',
          targetId: created.id,
          target: `${app.name}/${env.name}`,
          reason: body.reason,
          after: {
            startsAt: startsAt?.toISOString() ?? null,
            endsAt: endsAt?.toISOString() ?? null,
            recurrence: recurrence ?? null,
          },
        });
        return created;
      });
      return freezeWindowView(row);
    },

    async remove(
      ctx: RequestContext,
      appName: string,
      envName: string,
      id: string,
    ): Promise<FreezeWindowView> {
      requirePermission(ctx, 'freeze.manage', { application: appName });
      const { app, env } = await deps.catalog.requireEnvironment(appName, envName);
      return transact(async (tx) => {
        const row = await windows.find(id, env.id, tx);
        if (!row) throw AppError.notFound(`freeze window ${id}`, { field: 'params.id' });
        await windows.delete(id, tx);
        const view = freezeWindowView(row);
        await appendAudit(tx, {
          ...ctx.auditFields(),
          action: 'freeze.delete',
          targetType: 'freeze_window',
          targetId: id,
          target: `${app.name}/${env.name}`,
          before: {
            reason: view.reason,
            startsAt: view.startsAt,
            endsAt: view.endsAt,
            recurrence: view.recurrence as object | null,
          },
        });
        return view;
      });
    },

    activeWindows,

    /**
     * Call before starting a deployment. Throws 409 naming the active window;
     * with `override`, an admin with a reason may go ahead — recorded as a
     * `freeze.override` audit entry (in `tx` when given, so it commits with the deployment).
     */
    async assertNotFrozen(
      ctx: RequestContext,
      environmentId: string,
      opts: { override?: boolean | undefined; reason?: string | undefined } = {},
      tx?: Tx,
    ): Promise<{ overridden: FreezeWindowView[] }> {
      const active = await activeWindows(environmentId, new Date(), tx);
      if (active.length === 0) return { overridden: [] };
      const env = await deps.environments.findWithApplicationName(environmentId, tx);
      const first = active[0] as WindowRow;
      if (!opts.override)
        throw new AppError(
          ErrorCode.Frozen,
          `environment ${env.name} is frozen: ${describe(first)}; an admin can override with a reason`,
          { freezeWindow: freezeWindowView(first), field: 'freeze', reason: 'frozen' },
        );
      requirePermission(ctx, 'freeze.override', { application: env.application.name });
      if (!opts.reason?.trim())
        throw AppError.badField('body.reason', 'is required to override a freeze window');
      const overridden = active.map((w) => freezeWindowView(w));
      const entry = {
        ...ctx.auditFields(),
        action: 'freeze.override' as const,
        targetType: 'environment',
        targetId: env.id,
        target: `${env.application.name}/${env.name}`,
        reason: opts.reason,
        after: { freezeWindows: overridden.map((w) => ({ id: w.id, reason: w.reason })) },
      };
      await (tx ? appendAudit(tx, entry) : transact((own) => appendAudit(own, entry)));
      return { overridden };
    },
  };
}
export type FreezeService = ReturnType<typeof createFreezeService>;
