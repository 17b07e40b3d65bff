import { type ConfigDiff, type ConfigDiffEntry, SECRET_MASK } from '@qubot/api-contract';

/**
 * Decrypted entries of one configuration version, by key. `sealed` is a secret's stored
 * (encrypted) form: a secret kept from one version to the next keeps the same sealed text, and
 * every write seals afresh, so equal sealed text means "the same stored secret", never "a value
 * someone guessed".
 */
export type PlainEntries = Record<string, { value: string; secret: boolean; sealed?: string | undefined }>;

export interface DiffOptions {
  /**
   * Whether the caller may read the secrets on both sides, and so may learn whether two secret
   * values are equal. Without it a secret is never compared by value (that would be an oracle:
   * write a guess on one side, watch the key drop out of the diff).
   */
  compareSecrets: boolean;
}

const shown = (e: { value: string; secret: boolean } | undefined) =>
  e === undefined ? null : e.secret ? SECRET_MASK : e.value;

/**
 * What changes going from `from` to `to`. Secrets are only ever shown masked. A key secret on
 * both sides is compared by value only with `compareSecrets`; otherwise it is `unchanged` when it
 * is the same stored secret (kept across versions of one environment), else listed under
 * `notCompared`, without any equality information.
 */
export function diffConfig(
  from: PlainEntries,
  to: PlainEntries,
  sides: Pick<ConfigDiff, 'from' | 'to'>,
  opts: DiffOptions,
): ConfigDiff {
  const added: ConfigDiffEntry[] = [];
  const removed: ConfigDiffEntry[] = [];
  const changed: ConfigDiffEntry[] = [];
  const notCompared: ConfigDiffEntry[] = [];
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
    // Turning a key secret (or not) is visible in each version anyway: no value is compared.
    else if (a.secret !== b.secret) changed.push(entry);
    else if (a.secret && !opts.compareSecrets) {
      if (a.sealed !== undefined && a.sealed === b.sealed) unchanged++;
      else notCompared.push({ ...entry, changed: false });
    } else if (a.value !== b.value) changed.push(entry);
    else unchanged++;
  }
  return { ...sides, added, removed, changed, notCompared, unchanged };
}

/**
 * Whether two versions hold exactly the same keys, values and secret flags, as far as the caller
 * may know: without `compareSecrets` a secret written afresh counts as a change.
 */
export function sameEntries(a: PlainEntries, b: PlainEntries, opts: DiffOptions): boolean {
  const side = { environment: '', version: 0 };
  const d = diffConfig(a, b, { from: side, to: side }, opts);
  return d.added.length + d.removed.length + d.changed.length + d.notCompared.length === 0;
}
