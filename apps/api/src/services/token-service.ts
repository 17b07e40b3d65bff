import { type ApplicationRepo, appendAudit, type TokenRepo, type Transact } from '@qubot/db';
import { notifyCredentialsChanged } from '../events/revocation.ts';
import { AppError, ErrorCode } from '../lib/app-error.ts';
import { randomSecret, sha256 } from '../lib/password.ts';
import { requirePermission, roleFromDb, roleToDb } from '../lib/permissions.ts';
import type { RequestContext, RoleName } from '../lib/request-context.ts';
import { TOKEN_PREFIX } from './auth-service.ts';

export interface TokenView {
  id: string;
  name: string;
  prefix: string;
  role: RoleName;
  applications: string[];
  createdBy: string;
  createdAt: string;
  expiresAt: string | null;
  revokedAt: string | null;
  lastUsedAt: string | null;
  status: 'active' | 'expired' | 'revoked';
}

type TokenRow = {
  id: string;
  name: string;
  prefix: string;
  role: string;
  applications: string[];
  createdAt: Date;
  expiresAt: Date | null;
  revokedAt: Date | null;
  lastUsedAt: Date | null;
  createdBy: { username: string };
};

const iso = (d: Date | null) => d?.toISOString() ?? null;

export function tokenView(t: TokenRow): TokenView {
  return {
    id: t.id,
    name: t.name,
    prefix: t.prefix,
    role: roleFromDb(t.role),
    applications: t.applications,
    createdBy: t.createdBy.username,
    createdAt: t.createdAt.toISOString(),
    expiresAt: iso(t.expiresAt),
    revokedAt: iso(t.revokedAt),
    lastUsedAt: iso(t.lastUsedAt),
    status: t.revokedAt
      ? 'revoked'
      : t.expiresAt && t.expiresAt.getTime() <= Date.now()
        ? 'expired'
        : 'active',
  };
}

/** API tokens for CI and scripts: hashed at rest, shown once, scoped, expiring (DESIGN §7). */
export function createTokenService(deps: {
  transact: Transact;
  tokens: Pick<TokenRepo, 'list' | 'create' | 'find' | 'revoke'>;
  applications: Pick<ApplicationRepo, 'existingNames'>;
}) {
  const { tokens, transact } = deps;
  return {
    async list(ctx: RequestContext): Promise<{ items: TokenView[]; nextCursor: null }> {
      requirePermission(ctx, 'tokens.manage');
      const rows = await tokens.list();
      return { items: rows.map(tokenView), nextCursor: null };
    },

    /** Returns the secret once; only its SHA-256 is stored. */
    async create(
      ctx: RequestContext,
      body: {
        name: string;
        role: RoleName;
        applications?: string[] | undefined;
        expiresInDays?: number | undefined;
      },
    ): Promise<{ token: TokenView; secret: string }> {
      requirePermission(ctx, 'tokens.manage');
      const userId = ctx.actor.userId;
      if (!userId)
        throw new AppError(ErrorCode.Forbidden, 'forbidden: only a signed-in user can create tokens');
      const applications = [...new Set(body.applications ?? [])];
      if (applications.length > 0) {
        const known = await deps.applications.existingNames(applications);
        const missing = applications.filter((a) => !known.includes(a));
        if (missing.length > 0)
          throw AppError.badField('body.applications', `unknown application(s): ${missing.join(', ')}`);
      }
      const secret = `${TOKEN_PREFIX}${randomSecret()}`;
      const expiresAt =
        body.expiresInDays !== undefined ? new Date(Date.now() + body.expiresInDays * 86_400_000) : null;
      const row = await transact(async (tx) => {
        const created = await tokens.create(
          {
            name: body.name,
            tokenHash: sha256(secret),
            prefix: secret.slice(0, TOKEN_PREFIX.length + 6),
            role: roleToDb(body.role),
            applications,
            createdById: userId,
            expiresAt,
          },
          tx,
        );
        await appendAudit(tx, {
          ...ctx.auditFields(),
          action: 'token.create',
          targetType: 'token',
          targetId: created.id,
          target: body.name,
          after: { name: body.name, role: body.role, applications, expiresAt: iso(expiresAt) },
        });
        return created;
      });
      return { token: tokenView(row), secret };
    },

    /** Revoking is immediate: the next request with the token gets 401. Revoking twice is a no-op. */
    async revoke(ctx: RequestContext, id: string): Promise<TokenView> {
      requirePermission(ctx, 'tokens.manage');
      return transact(async (tx) => {
        const row = await tokens.find(id, tx);
        if (!row) throw AppError.notFound(`token ${id}`, { field: 'params.id' });
        if (row.revokedAt) return tokenView(row);
        const updated = await tokens.revoke(id, tx);
        // Open event stream sockets with this token close on commit, in every API process.
        await notifyCredentialsChanged(tx, { reason: 'token.revoke', tokenId: id });
        await appendAudit(tx, {
          ...ctx.auditFields(),
          action: 'token.revoke',
          targetType: 'token',
          targetId: id,
          target: row.name,
        });
        return tokenView(updated);
      });
    },
  };
}
export type TokenService = ReturnType<typeof createTokenService>;
