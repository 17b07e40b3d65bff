// Resolved credentials, kept for at most a second so a dashboard's or poller's reads do not each
// look their session or token up (bench/README.md, "The read path"). A kept answer is never
// trusted past what could have changed it:
// - every credential change (token revoked, logout, password, disabled, role) is announced to every
//   API process by a NOTIFY in the changing transaction (events/revocation.ts): it drops the lot;
// - a change made through this process drops the lot before its response is sent (`clear()` from
//   the app's onSend hook for every non-GET request), so its client's next request is checked
//   afresh;
// - nothing is kept while the event bus's LISTEN connection is down (a notice could be missed),
//   nor past the session's or token's own expiry.
import type { Credentials } from './request-context.ts';

export interface CredentialCacheOptions {
  /** How long an answer is kept; default 1 s. 0 = off. */
  ttlMs?: number;
  maxEntries?: number;
}

export function createCredentialCache(opts: CredentialCacheOptions = {}) {
  const ttlMs = opts.ttlMs ?? 1000;
  const maxEntries = opts.maxEntries ?? 10_000;
  const entries = new Map<string, { creds: Credentials; until: number }>();
  // Bumped by every drop: a lookup that started before a drop must not store its answer after it.
  let generation = 0;
  let listening = false;
  let hits = 0;

  const drop = () => {
    generation++;
    entries.clear();
  };

  /** The kept answer for `key`, if one may be used now. */
  function kept(key: string): Credentials | null {
    if (!listening || ttlMs <= 0) return null;
    const entry = entries.get(key);
    if (!entry || entry.until <= Date.now()) return null;
    hits++;
    return entry.creds;
  }

  return {
    /**
     * The kept credentials for `key`, without waiting (the authentication hook answers a kept
     * session in the same tick: no promise per request); null when they must be looked up.
     */
    kept,
    /** The caller's credentials: kept, or `lookup()` (then kept when it may be). */
    async resolve(key: string, lookup: () => Promise<Credentials | null>): Promise<Credentials | null> {
      if (!listening || ttlMs <= 0) return lookup();
      const found = kept(key);
      if (found) return found;
      const now = Date.now();
      const started = generation;
      const creds = await lookup();
      if (creds && started === generation && listening) {
        if (entries.size >= maxEntries) entries.clear();
        entries.set(key, {
          creds,
          until: Math.min(now + ttlMs, creds.validUntil ?? Number.POSITIVE_INFINITY),
        });
      }
      return creds;
    },
    /** A credential change anywhere (or `null`: notices may have been missed). */
    changed: drop,
    /** A change made through this process's API. */
    clear: drop,
    /** The event bus's LISTEN connection came up or went down. */
    listening(up: boolean): void {
      listening = up;
      drop();
    },
    stats: () => ({ hits, entries: entries.size, listening }),
  };
}
export type CredentialCache = ReturnType<typeof createCredentialCache>;
