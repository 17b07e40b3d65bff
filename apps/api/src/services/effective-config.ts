// The configuration an instance or a hook really gets: a version's key/value pairs with secrets
// decrypted, and its keyed hash — the fingerprint drift compares (docs/configuration.md "Drift").
// Used by the orchestrator (what to start processes with) and by the config service (the hash of a
// version it writes).
import type { ConfigRepo, ConfigVersionRow, StoredEntries } from '@qubot/db';
import { canonicalConfig } from '@qubot/runtime';
import type { SecretBox } from '../lib/secret-box.ts';

export interface EffectiveConfig {
  /** 0: never set (no entries). */
  version: number;
  values: Record<string, string>;
  hash: string;
}

/** Keyed hash of key/value pairs, as the local driver computes it over what it passed. */
export const configHash = (secrets: Pick<SecretBox, 'mac'>, values: Record<string, string>): string =>
  secrets.mac(canonicalConfig(values));

export function plainValues(
  secrets: Pick<SecretBox, 'decrypt'>,
  environmentId: string,
  entries: StoredEntries,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, e] of Object.entries(entries))
    out[key] = e.secret ? secrets.decrypt(e.value, `${environmentId}/${key}`) : e.value;
  return out;
}

const storedOf = (row: ConfigVersionRow | null): StoredEntries =>
  row && typeof row.entries === 'object' && row.entries !== null ? (row.entries as StoredEntries) : {};

export function createEffectiveConfig(deps: {
  configs: Pick<ConfigRepo, 'findById' | 'latest' | 'setHash'>;
  secrets: SecretBox;
}) {
  async function of(environmentId: string, row: ConfigVersionRow | null): Promise<EffectiveConfig> {
    const values = plainValues(deps.secrets, environmentId, storedOf(row));
    const hash = configHash(deps.secrets, values);
    if (row && !row.configHash) await deps.configs.setHash(row.id, hash);
    return { version: row?.version ?? 0, values, hash };
  }
  return {
    /** A pinned version (a deployment's `configVersionId`); null: the empty configuration. */
    async pinned(environmentId: string, configVersionId: string | null): Promise<EffectiveConfig> {
      return of(environmentId, configVersionId ? await deps.configs.findById(configVersionId) : null);
    },
    /** The environment's current configuration. */
    async current(environmentId: string): Promise<EffectiveConfig> {
      return of(environmentId, await deps.configs.latest(environmentId));
    },
    /** The hash of `canonicalConfig(values)`: what the local driver records for an instance. */
    hashCanonical: (canonical: string): string => deps.secrets.mac(canonical),
  };
}
export type EffectiveConfigService = ReturnType<typeof createEffectiveConfig>;
