import type { LoginThrottleRepo, ThrottleRow, ThrottleScope, Transact, Tx } from '@qubot/db';

/**
 * Sign-in throttling (docs/security.md "Sign-in throttling"). Three counters of failed sign-ins,
 * kept in `login_throttles` so they hold across restarts and API replicas:
 *
 * - per (account, address): after `maxFailures` failures that address is locked out of that
 *   account, for `lockoutMs`, doubling with each further lock up to `maxLockoutMs`;
 * - per address (all accounts): after `maxFailuresPerAddress` the address is locked the same way;
 * - per account (all addresses): after `maxFailuresPerAccount` within the window (a distributed
 *   guess), only addresses the account signed in from within `trustedAddressMs` may still try.
 *
 * No counter ever locks an account for everyone: a stranger's failures lock out the stranger's
 * address, never the admin signing in from theirs. Keys are the username as typed (lower-cased),
 * whether or not the account exists, so the answers say nothing about which accounts exist.
 *
 * An attempt is *reserved* (counted as a failure) under row locks before the password is checked,
 * and released on success: however many attempts arrive at once, no more than the budget are
 * ever checked.
 */
export interface ThrottleOptions {
  maxFailures: number;
  maxFailuresPerAddress: number;
  maxFailuresPerAccount: number;
  lockoutMs: number;
  maxLockoutMs: number;
  failureWindowMs: number;
  trustedAddressMs: number;
}

type Scope = ThrottleScope;
type Row = ThrottleRow;

export type Reservation = { ok: true } | { ok: false; retryAt: Date };

export function createLoginThrottle(deps: {
  transact: Transact;
  rows: Pick<LoginThrottleRepo, 'lockRows' | 'save' | 'prune'>;
  options: ThrottleOptions;
}) {
  const { transact, rows: repo } = deps;
  const o = deps.options;
  const lockFor = (level: number) => Math.min(o.lockoutMs * 2 ** Math.min(level, 20), o.maxLockoutMs);
  // Failures older than the window are forgotten.
  const live = (r: Row, now: number) =>
    r.last_failure_at && now - r.last_failure_at.getTime() > o.failureWindowMs ? 0 : r.failures;
  const lockRows = (tx: Tx, username: string, address: string) => repo.lockRows(username, address, tx);
  const save = (tx: Tx, scope: Scope, username: string, address: string, r: Row, now: Date) =>
    repo.save(scope, username, address, r, now, tx);
  const keys = (username: string, address: string): Record<Scope, [string, string]> => ({
    account: [username, ''],
    address: ['', address],
    pair: [username, address],
  });

  return {
    /** Count one attempt before checking the password, or refuse it (429) without checking. */
    async reserve(username: string, address: string, at = new Date()): Promise<Reservation> {
      const now = at.getTime();
      return transact(async (tx) => {
        const rows = await lockRows(tx, username, address);
        const { pair, address: addr, account } = rows;
        for (const r of [pair, addr])
          if (r.locked_until && r.locked_until.getTime() > now) return { ok: false, retryAt: r.locked_until };
        // Attempts in flight count: 18 at once still get only `maxFailures` password checks.
        if (live(pair, now) >= o.maxFailures)
          return { ok: false, retryAt: new Date(now + lockFor(pair.level)) };
        if (live(addr, now) >= o.maxFailuresPerAddress)
          return { ok: false, retryAt: new Date(now + lockFor(addr.level)) };
        const trusted = pair.last_success_at && now - pair.last_success_at.getTime() <= o.trustedAddressMs;
        if (live(account, now) >= o.maxFailuresPerAccount && !trusted)
          return {
            ok: false,
            retryAt: new Date((account.last_failure_at?.getTime() ?? now) + o.failureWindowMs),
          };
        const k = keys(username, address);
        for (const scope of ['account', 'address', 'pair'] as const) {
          const r = rows[scope];
          await save(tx, scope, ...k[scope], { ...r, failures: live(r, now) + 1, last_failure_at: at }, at);
        }
        return { ok: true };
      });
    },

    /**
     * The reserved attempt failed: lock the pair and/or the address once over budget. Returns the
     * locks set (for the audit), in the caller's transaction.
     */
    async failed(tx: Tx, username: string, address: string, at = new Date()) {
      const now = at.getTime();
      const rows = await lockRows(tx, username, address);
      const k = keys(username, address);
      const locks: { scope: 'pair' | 'address'; until: string }[] = [];
      for (const [scope, max] of [
        ['address', o.maxFailuresPerAddress],
        ['pair', o.maxFailures],
      ] as const) {
        const r = rows[scope];
        const unlocked = !r.locked_until || r.locked_until.getTime() <= now;
        if (unlocked && live(r, now) >= max) {
          const until = new Date(now + lockFor(r.level));
          locks.push({ scope, until: until.toISOString() });
          await save(
            tx,
            scope,
            ...k[scope],
            { ...r, failures: 0, level: r.level + 1, locked_until: until },
            at,
          );
        }
      }
      return locks;
    },

    /** The reserved attempt succeeded: the pair starts afresh and is trusted; the others give the attempt back. */
    async succeeded(username: string, address: string, at = new Date()) {
      await transact(async (tx) => {
        const rows = await lockRows(tx, username, address);
        const k = keys(username, address);
        for (const scope of ['account', 'address'] as const) {
          const r = rows[scope];
          await save(tx, scope, ...k[scope], { ...r, failures: Math.max(0, r.failures - 1) }, at);
        }
        await save(
          tx,
          'pair',
          ...k.pair,
          { ...rows.pair, failures: 0, level: 0, locked_until: null, last_success_at: at },
          at,
        );
      });
    },

    /** Forget rows idle for a day that hold nothing worth keeping (bounded, index on updated_at). */
    async prune(at = new Date()) {
      const idle = new Date(at.getTime() - Math.max(24 * 3600_000, o.maxLockoutMs));
      const trustedSince = new Date(at.getTime() - o.trustedAddressMs);
      await repo.prune(idle, trustedSince);
    },
  };
}
export type LoginThrottle = ReturnType<typeof createLoginThrottle>;
