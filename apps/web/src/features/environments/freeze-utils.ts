import type { FreezeWindow } from '@qubot/api-contract';

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

/** "weekly Fri,Sat 18:00–06:00 Europe/Paris", or null for a one-off window (shown with <Time>). */
export function recurrenceLabel(w: Pick<FreezeWindow, 'recurrence'>): string | null {
  const r = w.recurrence;
  if (!r) return null;
  return `weekly ${r.days.map((d) => DAYS[d] ?? String(d)).join(',')} ${r.start}–${r.end} ${r.timezone}`;
}

/** A `datetime-local` value (local time, minutes) for an instant. */
export function toLocalInput(at: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${at.getFullYear()}-${pad(at.getMonth() + 1)}-${pad(at.getDate())}T${pad(at.getHours())}:${pad(at.getMinutes())}`;
}

/** The ISO instant of a `datetime-local` value, or null when it is empty or invalid. */
export function fromLocalInput(value: string): string | null {
  if (!value) return null;
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
}
