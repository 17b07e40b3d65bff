import { type ConfigDiff, type ConfigDiffEntry, SECRET_MASK } from '@qubot/api-contract';

/** Decrypted entries of one configuration version, by key. */
export type PlainEntries = Record<string, { value: string; secret: boolean }>;

const shown = (e: { value: string; secret: boolean } | undefined) =>
  e === undefined ? null : e.secret ? SECRET_MASK : e.value;

/**
 * What changes going from `from` to `to`. Secrets are compared by their real values but only
 * ever shown masked: a changed secret appears as `"••••••" → "••••••"` with `changed: true`.
 */
export function diffConfig(
  from: PlainEntries,
  to: PlainEntries,
  sides: Pick<ConfigDiff, 'from' | 'to'>,
): ConfigDiff {
  const added: ConfigDiffEntry[] = [];
  const removed: ConfigDiffEntry[] = [];
  const changed: ConfigDiffEntry[] = [];
  let unchanged = 0;
  const keys = [...new Set([...Object.keys(from), ...Object.keys(to)])].sort();
  for (const key of keys) {
    const a = from[key];
    const b = to[key];
    const entry: ConfigDiffEntry = {
      key,
      from: shown(a),
      to: shown(b),
      secret: Boolean(a?.secret || b?.secret),
      changed: true,
    };
    if (!a) added.push(entry);
    else if (!b) removed.push(entry);
    else if (a.value !== b.value || a.secret !== b.secret) changed.push(entry);
    else unchanged++;
  }
  return { ...sides, added, removed, changed, unchanged };
}

/** Whether two versions hold exactly the same keys, values and secret flags. */
export function sameEntries(a: PlainEntries, b: PlainEntries): boolean {
  const d = diffConfig(a, b, { from: { environment: '', version: 0 }, to: { environment: '', version: 0 } });
  return d.added.length === 0 && d.removed.length === 0 && d.changed.length === 0;
}
