import type { DoraDay, DoraFigures } from '@qubot/api-contract';

/** Seconds as people read a lead time or a restore time: "45 s", "12 min", "3.5 h", "2.1 d". */
export function formatDuration(seconds: number | null): string {
  if (seconds === null) return '—';
  if (seconds < 60) return `${Math.round(seconds)} s`;
  if (seconds < 3_600) return `${Math.round(seconds / 60)} min`;
  if (seconds < 86_400) return `${(seconds / 3_600).toFixed(1)} h`;
  return `${(seconds / 86_400).toFixed(1)} d`;
}

export const formatRate = (ratio: number | null) => (ratio === null ? '—' : `${Math.round(ratio * 100)} %`);

export const formatPerDay = (perDay: number) =>
  perDay >= 1 ? `${perDay.toFixed(1)} / day` : perDay > 0 ? `${(perDay * 7).toFixed(1)} / week` : 'none';

export type FigureKey =
  | 'deploymentsPerDay'
  | 'leadTimeSeconds'
  | 'changeFailureRate'
  | 'timeToRestoreSeconds';

/** Which way is better, per figure (more deployments; less of everything else). */
const HIGHER_IS_BETTER: Record<FigureKey, boolean> = {
  deploymentsPerDay: true,
  leadTimeSeconds: false,
  changeFailureRate: false,
  timeToRestoreSeconds: false,
};

export interface Trend {
  direction: 'up' | 'down' | 'flat';
  /** Whether the change is an improvement; null when flat. */
  better: boolean | null;
  /** "▲ 25 % vs the 7 days before", "▼ 10 points …", "same as …". */
  text: string;
}

/** The figure now against the window before; null when either side has no value. */
export function trendOf(
  key: FigureKey,
  current: DoraFigures,
  previous: DoraFigures,
  days: number,
): Trend | null {
  const now = current[key];
  const before = previous[key];
  if (now === null || before === null) return null;
  const vs = `vs the ${days} days before`;
  // A rate moves in points; the others relative to what they were.
  const change =
    key === 'changeFailureRate'
      ? Math.round((now - before) * 100)
      : before === 0
        ? now === 0
          ? 0
          : null
        : Math.round(((now - before) / before) * 100);
  if (change === 0) return { direction: 'flat', better: null, text: `same as ${vs.slice(3)}` };
  const direction = now > before ? 'up' : 'down';
  const arrow = direction === 'up' ? '▲' : '▼';
  const size =
    change === null
      ? 'new'
      : key === 'changeFailureRate'
        ? `${Math.abs(change)} points`
        : `${Math.abs(change)} %`;
  return {
    direction,
    better: (direction === 'up') === HIGHER_IS_BETTER[key],
    text: `${arrow} ${size} ${vs}`,
  };
}

export interface Bar {
  x: number;
  width: number;
  /** Successes from the baseline up, failures stacked above them. */
  okY: number;
  okHeight: number;
  failY: number;
  failHeight: number;
}

/** Stacked daily bars (successes, failures) in a width × height box, tallest day at the top. */
export function dailyBars(
  days: readonly DoraDay[],
  width: number,
  height: number,
): { bars: Bar[]; max: number } {
  const max = Math.max(1, ...days.map((d) => d.succeeded + d.failed));
  const step = days.length > 0 ? width / days.length : width;
  const gap = step > 4 ? 1 : 0;
  const bars = days.map((d, i) => {
    const okHeight = (d.succeeded / max) * height;
    const failHeight = (d.failed / max) * height;
    return {
      x: i * step,
      width: Math.max(0.5, step - gap),
      okY: height - okHeight,
      okHeight,
      failY: height - okHeight - failHeight,
      failHeight,
    };
  });
  return { bars, max };
}

/** Where each day with a value sits in the box (dots: a day alone between gaps is no line). */
export function linePoints(
  values: readonly (number | null)[],
  width: number,
  height: number,
): { i: number; x: number; y: number }[] {
  const present = values.filter((v): v is number => v !== null);
  const max = Math.max(0, ...present) || 1;
  const step = values.length > 1 ? width / (values.length - 1) : 0;
  return values.flatMap((v, i) =>
    v === null ? [] : [{ i, x: +(i * step).toFixed(1), y: +(height - (v / max) * height).toFixed(1) }],
  );
}

/** An SVG path through the days that have a value (a gap breaks the line), scaled to the box. */
export function linePath(values: readonly (number | null)[], width: number, height: number): string {
  const present = values.filter((v): v is number => v !== null);
  if (present.length === 0) return '';
  const max = Math.max(...present) || 1;
  const step = values.length > 1 ? width / (values.length - 1) : 0;
  let path = '';
  let pen = false;
  values.forEach((v, i) => {
    if (v === null) {
      pen = false;
      return;
    }
    const x = +(i * step).toFixed(1);
    const y = +(height - (v / max) * height).toFixed(1);
    path += `${pen ? 'L' : 'M'}${x} ${y}`;
    pen = true;
  });
  return path;
}
