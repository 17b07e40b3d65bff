import type { Db } from '../client.ts';

export type ThrottleScope = 'account' | 'address' | 'pair';

/** One counter of failed sign-ins (table login_throttles). */
export interface ThrottleRow {
  scope: ThrottleScope;
  failures: number;
  level: number;
  locked_until: Date | null;
  last_failure_at: Date | null;
  last_success_at: Date | null;
}

/** The sign-in throttle's counters; the rules that read them live in the API's login-throttle.ts. */
export function createLoginThrottleRepo(root: Db) {
  return {
    /** Lock the three rows, creating them if needed; always in the same order, so no deadlock. */
    async lockRows(username: string, address: string, tx: Db): Promise<Record<ThrottleScope, ThrottleRow>> {
      await tx.$executeRaw`
      INSERT INTO login_throttles (scope, username, address)
      VALUES ('account', ${username}, ''), ('address', '', ${address}), ('pair', ${username}, ${address})
      ON CONFLICT DO NOTHING`;
      const rows = await tx.$queryRaw<ThrottleRow[]>`
      SELECT scope, failures, level, locked_until, last_failure_at, last_success_at
      FROM login_throttles
      WHERE (scope, username, address) IN
        (('account', ${username}, ''), ('address', '', ${address}), ('pair', ${username}, ${address}))
      ORDER BY scope, username, address
      FOR UPDATE`;
      return Object.fromEntries(rows.map((r) => [r.scope, r])) as Record<ThrottleScope, ThrottleRow>;
    },

    async save(scope: ThrottleScope, username: string, address: string, r: ThrottleRow, now: Date, tx: Db) {
      await tx.$executeRaw`
      UPDATE login_throttles
      SET failures = ${r.failures}, level = ${r.level}, locked_until = ${r.locked_until},
          last_failure_at = ${r.last_failure_at}, last_success_at = ${r.last_success_at}, updated_at = ${now}
      WHERE scope = ${scope} AND username = ${username} AND address = ${address}`;
    },

    /** An admin's unlock: forget every failure and lock of this account (all addresses). */
    async clear(username: string, db: Db = root) {
      await db.$executeRaw`UPDATE login_throttles SET failures = 0, level = 0, locked_until = NULL
            WHERE username = ${username} AND scope IN ('account', 'pair')`;
    },

    /** Forget up to 500 rows idle since `idle` whose last success (if any) is older than `trustedSince`. */
    async prune(idle: Date, trustedSince: Date, db: Db = root) {
      await db.$executeRaw`
        DELETE FROM login_throttles WHERE ctid = ANY(ARRAY(
          SELECT ctid FROM login_throttles
          WHERE updated_at < ${idle} AND (last_success_at IS NULL OR last_success_at < ${trustedSince})
          LIMIT 500))`;
    },
  };
}
export type LoginThrottleRepo = ReturnType<typeof createLoginThrottleRepo>;
