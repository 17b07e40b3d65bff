// DORA figures from the daily rollup (deployment_daily, one row per environment and UTC day; kept by
// a trigger as deployments finish). Pure: the rows and "today" are passed in.
import type { DoraReport } from '@qubot/api-contract';
import type { DailyRow } from '@qubot/db';

export const DORA_WINDOWS = [7, 30, 90] as const;
export type DoraWindow = (typeof DORA_WINDOWS)[number];

export interface DoraFigures {
  /** Successful deployments in the window. */
  deployments: number;
  /** Successful deployments per day. */
  deploymentsPerDay: number;
  /** Failed or rolled-back deployments in the window. */
  failures: number;
  /** failures / (successes + failures); null with neither. */
  changeFailureRate: number | null;
  /** Mean seconds from release creation to its success here; null without a success. */
  leadTimeSeconds: number | null;
  /** Mean seconds from the first failure after a success to the next success; null without a restore. */
  timeToRestoreSeconds: number | null;
}

export interface DoraWindowFigures {
  days: DoraWindow;
  current: DoraFigures;
  /** The same figures over the window before (trend). */
  previous: DoraFigures;
}

/** YYYY-MM-DD of `epochMs` minus `days`, UTC. */
export function dayOffset(epochMs: number, days: number): string {
  return new Date(epochMs - days * 86_400_000).toISOString().slice(0, 10);
}

/** Figures over the days in (`from`, `to`] (YYYY-MM-DD, exclusive start, inclusive end). */
export function figures(rows: readonly DailyRow[], from: string, to: string, days: number): DoraFigures {
  let ok = 0;
  let bad = 0;
  let leadSum = 0;
  let leadN = 0;
  let restoreSum = 0;
  let restoreN = 0;
  for (const r of rows) {
    if (r.day <= from || r.day > to) continue;
    ok += r.succeeded;
    bad += r.failed;
    leadSum += r.leadTimeSum;
    leadN += r.leadTimeCount;
    restoreSum += r.restoreSum;
    restoreN += r.restoreCount;
  }
  return {
    deployments: ok,
    deploymentsPerDay: ok / days,
    failures: bad,
    changeFailureRate: ok + bad > 0 ? bad / (ok + bad) : null,
    leadTimeSeconds: leadN > 0 ? leadSum / leadN : null,
    timeToRestoreSeconds: restoreN > 0 ? restoreSum / restoreN : null,
  };
}

/** The 7/30/90-day figures and the window before each, for one environment's rows. */
export function doraWindows(rows: readonly DailyRow[], now: number): DoraWindowFigures[] {
  const today = dayOffset(now, 0);
  return DORA_WINDOWS.map((days) => ({
    days,
    current: figures(rows, dayOffset(now, days), today, days),
    previous: figures(rows, dayOffset(now, 2 * days), dayOffset(now, days), days),
  }));
}

export interface DoraDay {
  day: string;
  succeeded: number;
  failed: number;
  /** Mean lead time of that day's successes, seconds; null without one. */
  leadTimeSeconds: number | null;
}

/** One point per day of the last `days` days, oldest first, zeros where nothing finished. */
export function dailySeries(rows: readonly DailyRow[], now: number, days: number): DoraDay[] {
  const byDay = new Map(rows.map((r) => [r.day, r]));
  const out: DoraDay[] = [];
  for (let i = days - 1; i >= 0; i--) {
    const day = dayOffset(now, i);
    const r = byDay.get(day);
    out.push({
      day,
      succeeded: r?.succeeded ?? 0,
      failed: r?.failed ?? 0,
      leadTimeSeconds: r && r.leadTimeCount > 0 ? r.leadTimeSum / r.leadTimeCount : null,
    });
  }
  return out;
}

/** GET /apps/:app/dora: every environment (pipeline order) with its windows and 90 daily points. */
export function doraReportView(
  application: string,
  environments: readonly { id: string; name: string; position: number }[],
  rows: readonly DailyRow[],
  now: number,
): DoraReport {
  return {
    application,
    at: new Date(now).toISOString(),
    environments: environments.map((e) => {
      const own = rows.filter((r) => r.environmentId === e.id);
      return {
        environment: e.name,
        position: e.position,
        windows: doraWindows(own, now),
        daily: dailySeries(own, now, 90),
      };
    }),
  };
}
