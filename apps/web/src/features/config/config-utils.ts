import type { ConfigDiff, ConfigVersion, PutConfigBody } from '@qubot/api-contract';
import { roleCan } from '@qubot/client';

// Same values as @qubot/api-contract's config.ts; copied because importing values from there
// would pull the schema library into the browser bundle.
export const SECRET_MASK = '••••••';
const MAX_CONFIG_ENTRIES = 500;

/** One row of the edit form. A stored secret is never sent to the browser: `keep` stands for it. */
export interface DraftEntry {
  id: string;
  key: string;
  value: string;
  secret: boolean;
  /** A stored secret left blank keeps its value on save. */
  keep: boolean;
}

const KEY = /^[A-Z][A-Z0-9_]{0,63}$/;

export function draftFrom(config: Pick<ConfigVersion, 'entries'>): DraftEntry[] {
  return config.entries.map((e, i) => ({
    id: `e${i}`,
    key: e.key,
    value: e.secret ? '' : e.value,
    secret: e.secret,
    keep: e.secret,
  }));
}

/** Problems by row id (field `key` or `value`), in words for the screen; empty when the draft can be saved. */
export function validateDraft(
  entries: readonly DraftEntry[],
): Record<string, { key?: string; value?: string }> {
  const errors: Record<string, { key?: string; value?: string }> = {};
  const seen = new Set<string>();
  const add = (id: string, field: 'key' | 'value', message: string) => {
    errors[id] = { ...errors[id], [field]: message };
  };
  for (const e of entries) {
    if (!KEY.test(e.key))
      add(e.id, 'key', 'Upper-case letters, digits and _, starting with a letter (at most 64).');
    else if (seen.has(e.key)) add(e.id, 'key', `${e.key} is already set above.`);
    seen.add(e.key);
    if (e.secret && !e.keep && e.value === '') add(e.id, 'value', 'A new secret needs a value.');
    if (!e.secret && e.value === SECRET_MASK) add(e.id, 'value', 'This is the secret mask, not a value.');
  }
  return errors;
}

export function draftErrorsCount(entries: readonly DraftEntry[]): number {
  return Object.keys(validateDraft(entries)).length + (entries.length > MAX_CONFIG_ENTRIES ? 1 : 0);
}

/** The PUT body: a kept secret goes without a value, so the server keeps what it stores. */
export function draftToBody(
  entries: readonly DraftEntry[],
  comment: string,
  baseVersion: number,
): PutConfigBody {
  const trimmed = comment.trim();
  return {
    entries: entries.map((e) =>
      e.secret && e.keep && e.value === ''
        ? { key: e.key, secret: true }
        : { key: e.key, value: e.value, secret: e.secret },
    ),
    ...(trimmed ? { comment: trimmed } : {}),
    baseVersion,
  };
}

export type DiffChange = 'added' | 'removed' | 'changed' | 'notCompared';
export interface DiffRow {
  key: string;
  change: DiffChange;
  from: string | null;
  to: string | null;
  secret: boolean;
}

/** One table of the diff, sorted by key. */
export function diffRows(
  diff: Pick<ConfigDiff, 'added' | 'removed' | 'changed'> & Partial<Pick<ConfigDiff, 'notCompared'>>,
): DiffRow[] {
  const rows: DiffRow[] = [
    ...diff.added.map((e) => ({ ...e, change: 'added' as const })),
    ...diff.removed.map((e) => ({ ...e, change: 'removed' as const })),
    ...diff.changed.map((e) => ({ ...e, change: 'changed' as const })),
    // Secrets the caller may not read: the server says nothing about whether they are equal.
    ...(diff.notCompared ?? []).map((e) => ({ ...e, change: 'notCompared' as const })),
  ].map(({ key, change, from, to, secret }) => ({ key, change, from, to, secret }));
  return rows.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

export function diffSummary(
  diff: Pick<ConfigDiff, 'added' | 'removed' | 'changed' | 'unchanged'> &
    Partial<Pick<ConfigDiff, 'notCompared'>>,
): string {
  const notCompared = diff.notCompared?.length ?? 0;
  const parts = [
    diff.added.length ? `${diff.added.length} added` : null,
    diff.changed.length ? `${diff.changed.length} changed` : null,
    diff.removed.length ? `${diff.removed.length} removed` : null,
    notCompared ? `${notCompared} secret${notCompared === 1 ? '' : 's'} not compared` : null,
  ].filter(Boolean);
  if (parts.length === 0) return 'No differences';
  return `${parts.join(', ')}; ${diff.unchanged} unchanged`;
}

/** The server's rule from the shared role table (the server decides): deployer, or release-manager on a protected environment. */
export function canWriteConfig(role: string | undefined, isProtected: boolean): boolean {
  return roleCan(role, 'config.write', isProtected);
}

/** Versions are numbered 1, 2, 3…: each one is compared with the one before (0 = empty). */
export function previousVersion(version: number): number {
  return Math.max(0, version - 1);
}
