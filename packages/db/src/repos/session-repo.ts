import type pg from 'pg';
import type { Db } from '../client.ts';
import type { Role } from '../generated/client.ts';

/** Browser sessions (table sessions); ids are the SHA-256 of the cookie. */
export function createSessionRepo(root: Db, pool: Pick<pg.Pool, 'query'>) {
  return {
    /**
     * The session and its user, as every cookie-authenticated request reads them: one named
     * statement on the pool (Prisma's findUnique with an include was two queries and ~10x the CPU
     * per request; bench/README.md "The read path").
     */
    async findWithUser(id: string) {
      const { rows } = await pool.query<Record<string, unknown>>({
        name: 'qubot_auth_session',
        text: `SELECT s.csrf_token, s.created_at, s.expires_at, s.revoked_at, s.last_seen_at, u.id AS user_id,
                    u.username, u.role::text AS role, u.disabled, u.must_change_password
               FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id = $1`,
        values: [id],
      });
      const r = rows[0];
      if (!r) return null;
      return {
        csrfToken: r.csrf_token as string,
        createdAt: r.created_at as Date,
        expiresAt: r.expires_at as Date,
        revokedAt: r.revoked_at as Date | null,
        lastSeenAt: r.last_seen_at as Date,
        user: {
          id: r.user_id as string,
          username: r.username as string,
          role: r.role as Role,
          disabled: r.disabled as boolean,
          mustChangePassword: r.must_change_password as boolean,
        },
      };
    },
    /** Slide the expiry. */
    touch(id: string, data: { lastSeenAt: Date; expiresAt: Date }, db: Db = root) {
      return db.session.update({ where: { id }, data });
    },
    create(
      data: {
        id: string;
        userId: string;
        csrfToken: string;
        expiresAt: Date;
        clientIp: string | null;
        userAgent: string | null;
      },
      db: Db = root,
    ) {
      return db.session.create({ data });
    },
    /** Revoke one session; the count says whether it was still open. */
    revoke(id: string, db: Db = root) {
      return db.session.updateMany({ where: { id, revokedAt: null }, data: { revokedAt: new Date() } });
    },
    /** Revoke every open session of a user, except `exceptId` when given. */
    revokeAllOf(userId: string, exceptId: string | null, db: Db = root) {
      return db.session.updateMany({
        where: { userId, revokedAt: null, ...(exceptId ? { id: { not: exceptId } } : {}) },
        data: { revokedAt: new Date() },
      });
    },
  };
}
export type SessionRepo = ReturnType<typeof createSessionRepo>;
