import type pg from 'pg';
import type { Db } from '../client.ts';
import type { Role } from '../generated/client.ts';

/** What authenticating a bearer token reads. */
export interface TokenAuthRow {
  id: string;
  name: string;
  role: Role;
  applications: string[];
  createdById: string;
  expiresAt: Date | null;
  revokedAt: Date | null;
  lastUsedAt: Date | null;
}

const withCreator = { createdBy: { select: { username: true } } } as const;

/** API tokens (table api_tokens): only the SHA-256 of the secret is stored. */
export function createTokenRepo(root: Db, pool: Pick<pg.Pool, 'query'>) {
  return {
    /** The token behind a bearer secret's hash, as every token-authenticated request reads it. */
    async findByHash(tokenHash: string): Promise<TokenAuthRow | null> {
      const { rows } = await pool.query<TokenAuthRow>({
        name: 'qubot_auth_token',
        text: `SELECT id, name, role::text AS role, applications, created_by_id AS "createdById",
                      expires_at AS "expiresAt", revoked_at AS "revokedAt", last_used_at AS "lastUsedAt"
               FROM api_tokens WHERE token_hash = $1`,
        values: [tokenHash],
      });
      return rows[0] ?? null;
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
