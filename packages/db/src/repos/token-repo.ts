import type pg from 'pg';
import type { Db } from '../client.ts';
import type { Role } from '../generated/client.ts';

const withCreator = { createdBy: { select: { username: true } } } as const;

/** API tokens (table api_tokens): only the SHA-256 of the secret is stored. */
export function createTokenRepo(root: Db, pool: Pick<pg.Pool, 'query'>) {
  return {
    /** The token behind a bearer secret's hash, as every token-authenticated request reads it. */
    async findByHash(tokenHash: string) {
      const { rows } = await pool.query<Record<string, unknown>>({
        name: 'qubot_auth_token',
        text: `SELECT id, name, role::text AS role, applications, created_by_id, expires_at, revoked_at, last_used_at
               FROM api_tokens WHERE token_hash = $1`,
        values: [tokenHash],
      });
      const r = rows[0];
      if (!r) return null;
      return {
        id: r.id as string,
        name: r.name as string,
        role: r.role as Role,
        applications: r.applications as string[],
        createdById: r.created_by_id as string,
        expiresAt: r.expires_at as Date | null,
        revokedAt: r.revoked_at as Date | null,
        lastUsedAt: r.last_used_at as Date | null,
      };
    },
    touch(id: string, lastUsedAt: Date, db: Db = root) {
      return db.apiToken.update({ where: { id }, data: { lastUsedAt } });
    },
    list(db: Db = root) {
      return db.apiToken.findMany({
        orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
        include: withCreator,
      });
    },
    find(id: string, db: Db = root) {
      return db.apiToken.findUnique({ where: { id }, include: withCreator });
    },
    create(
      data: {
        name: string;
        tokenHash: string;
        prefix: string;
        role: Role;
        applications: string[];
        createdById: string;
        expiresAt: Date | null;
      },
      db: Db = root,
    ) {
      return db.apiToken.create({ data, include: withCreator });
    },
    revoke(id: string, db: Db = root) {
      return db.apiToken.update({ where: { id }, data: { revokedAt: new Date() }, include: withCreator });
    },
  };
}
export type TokenRepo = ReturnType<typeof createTokenRepo>;
