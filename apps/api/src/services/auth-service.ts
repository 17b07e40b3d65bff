import { appendAudit, type Database } from '@qubot/db';
import { AppError, ErrorCode } from '../lib/app-error.ts';
import {
  burnPasswordCheck,
  hashPassword,
  PASSWORD_MIN,
  randomSecret,
  sha256,
  verifyPassword,
} from '../lib/password.ts';
import { roleFromDb } from '../lib/permissions.ts';
import type { Actor, RequestContext } from '../lib/request-context.ts';

export const SESSION_COOKIE = 'qubot_session';
export const CSRF_COOKIE = 'qubot_csrf';
export const TOKEN_PREFIX = 'qbt_';

export interface AuthOptions {
  /** Idle timeout: every request within it slides the expiry (default 12 h). */
  sessionTtlMs: number;
  /** Hard cap on a session's life however active it is (default 7 days). */
  sessionMaxMs: number;
  /** Failed sign-ins in a row before the account is locked (default 5). */
  maxFailedLogins: number;
  /** How long a lock lasts (default 15 min). */
  lockoutMs: number;
}

export const DEFAULT_AUTH_OPTIONS: AuthOptions = {
  sessionTtlMs: 12 * 3600_000,
  sessionMaxMs: 7 * 24 * 3600_000,
  maxFailedLogins: 5,
  lockoutMs: 15 * 60_000,
};

/** What authenticating a request yields. */
export interface Credentials {
  actor: Actor;
  /** Present for cookie sessions: the session row id and its CSRF token. */
  session: { id: string; csrfToken: string } | null;
  mustChangePassword: boolean;
}

const INVALID = 'invalid username or password';
// Don't write to the session row on every request: slide at most once a minute.
const TOUCH_EVERY_MS = 60_000;

export function parseBearer(header: string | undefined): string | null {
  if (!header) return null;
  const m = /^Bearer\s+(\S+)$/i.exec(header);
  return m?.[1] ?? null;
}

export function createAuthService(deps: { db: Pick<Database, 'prisma'>; options?: Partial<AuthOptions> }) {
  const opts = { ...DEFAULT_AUTH_OPTIONS, ...deps.options };
  const { prisma } = deps.db;

  async function fromSession(cookieValue: string): Promise<Credentials | null> {
    if (cookieValue.length > 200) return null;
    const id = sha256(cookieValue);
    const row = await prisma.session.findUnique({ where: { id }, include: { user: true } });
    const now = Date.now();
    if (!row || row.revokedAt || row.expiresAt.getTime() <= now || row.user.disabled) return null;
    if (now - row.lastSeenAt.getTime() > TOUCH_EVERY_MS) {
      const cap = row.createdAt.getTime() + opts.sessionMaxMs;
      await prisma.session.update({
        where: { id },
        data: { lastSeenAt: new Date(now), expiresAt: new Date(Math.min(now + opts.sessionTtlMs, cap)) },
      });
    }
    return {
      actor: {
        name: row.user.username,
        role: roleFromDb(row.user.role),
        kind: 'user',
        userId: row.user.id,
        personId: row.user.id,
      },
      session: { id, csrfToken: row.csrfToken },
      mustChangePassword: row.user.mustChangePassword,
    };
  }

  async function fromToken(secret: string): Promise<Credentials | null> {
    if (!secret.startsWith(TOKEN_PREFIX) || secret.length > 200) return null;
    const row = await prisma.apiToken.findUnique({ where: { tokenHash: sha256(secret) } });
    const now = Date.now();
    if (!row || row.revokedAt || (row.expiresAt && row.expiresAt.getTime() <= now)) return null;
    if (!row.lastUsedAt || now - row.lastUsedAt.getTime() > TOUCH_EVERY_MS) {
      await prisma.apiToken.update({ where: { id: row.id }, data: { lastUsedAt: new Date(now) } });
    }
    return {
      actor: {
        name: `token:${row.name}`,
        role: roleFromDb(row.role),
        kind: 'token',
        // A token acts for the user who created it: the two-person rule is about people.
        personId: row.createdById,
        applications: row.applications,
      },
      session: null,
      mustChangePassword: false,
    };
  }

  return {
    options: opts,

    /**
     * Resolve a request's credentials: `Authorization: Bearer qbt_…` first,
     * then the session cookie. Null when neither is valid (expired, revoked, disabled user).
     */
    async resolve(input: { authorization?: string | undefined; sessionCookie?: string | undefined }) {
      const bearer = parseBearer(input.authorization);
      if (bearer) return fromToken(bearer);
      if (input.sessionCookie) return fromSession(input.sessionCookie);
      return null;
    },

    async login(
      ctx: Pick<RequestContext, 'requestId' | 'clientIp' | 'userAgent'>,
      body: { username: string; password: string },
    ) {
      const username = body.username.toLowerCase();
      const user = await prisma.user.findUnique({ where: { username } });
      if (!user) {
        await burnPasswordCheck(body.password);
        throw new AppError(ErrorCode.Unauthenticated, INVALID);
      }
      const now = Date.now();
      if (user.lockedUntil && user.lockedUntil.getTime() > now) {
        const minutes = Math.ceil((user.lockedUntil.getTime() - now) / 60_000);
        throw new AppError(
          ErrorCode.RateLimited,
          `too many failed sign-in attempts; try again in ${minutes} minute${minutes === 1 ? '' : 's'}`,
        );
      }
      const ok = await verifyPassword(user.passwordHash, body.password);
      const audit = {
        actor: user.username,
        role: roleFromDb(user.role),
        targetType: 'user',
        targetId: user.id,
        target: user.username,
        requestId: ctx.requestId,
        clientIp: ctx.clientIp,
        userAgent: ctx.userAgent,
      };
      if (!ok || user.disabled) {
        if (!ok) {
          const failures = user.failedLogins + 1;
          const lock = failures >= opts.maxFailedLogins;
          await prisma.$transaction(async (tx) => {
            await tx.user.update({
              where: { id: user.id },
              data: {
                failedLogins: lock ? 0 : failures,
                lockedUntil: lock ? new Date(now + opts.lockoutMs) : user.lockedUntil,
              },
            });
            await appendAudit(tx, {
              ...audit,
              action: lock ? 'auth.lockout' : 'auth.login.failed',
              after: { failedLogins: failures },
            });
          });
        }
        throw new AppError(ErrorCode.Unauthenticated, INVALID);
      }
      const cookieValue = randomSecret();
      const csrfToken = randomSecret();
      await prisma.$transaction(async (tx) => {
        await tx.user.update({ where: { id: user.id }, data: { failedLogins: 0, lockedUntil: null } });
        await tx.session.create({
          data: {
            id: sha256(cookieValue),
            userId: user.id,
            csrfToken,
            expiresAt: new Date(now + Math.min(opts.sessionTtlMs, opts.sessionMaxMs)),
            clientIp: ctx.clientIp,
            userAgent: ctx.userAgent,
          },
        });
        await appendAudit(tx, { ...audit, action: 'auth.login' });
      });
      return {
        cookieValue,
        csrfToken,
        me: {
          username: user.username,
          role: roleFromDb(user.role),
          mustChangePassword: user.mustChangePassword,
          kind: 'user' as const,
        },
      };
    },

    async logout(ctx: RequestContext, sessionId: string | null) {
      if (!sessionId) return;
      await prisma.$transaction(async (tx) => {
        const res = await tx.session.updateMany({
          where: { id: sessionId, revokedAt: null },
          data: { revokedAt: new Date() },
        });
        if (res.count > 0)
          await appendAudit(tx, {
            ...ctx.auditFields(),
            action: 'auth.logout',
            targetType: 'user',
            targetId: ctx.actor.userId ?? null,
            target: ctx.actor.name,
          });
      });
    },

    me(creds: Pick<Credentials, 'actor' | 'mustChangePassword'>) {
      const { actor } = creds;
      return {
        username: actor.name,
        role: actor.role,
        mustChangePassword: creds.mustChangePassword,
        kind: actor.kind === 'token' ? ('token' as const) : ('user' as const),
        ...(actor.applications && actor.applications.length > 0 ? { applications: actor.applications } : {}),
      };
    },

    /** Change one's own password; other sessions of the user are signed out. */
    async changePassword(
      ctx: RequestContext,
      sessionId: string | null,
      body: { currentPassword: string; newPassword: string },
    ) {
      if (ctx.actor.kind !== 'user' || !ctx.actor.userId)
        throw new AppError(ErrorCode.Forbidden, 'forbidden: only a signed-in user can change a password');
      const user = await prisma.user.findUniqueOrThrow({ where: { id: ctx.actor.userId } });
      if (!(await verifyPassword(user.passwordHash, body.currentPassword)))
        throw AppError.badField('body.currentPassword', 'is not your current password');
      if (body.newPassword.length < PASSWORD_MIN)
        throw AppError.badField('body.newPassword', `must be at least ${PASSWORD_MIN} characters`);
      if (body.newPassword === body.currentPassword)
        throw AppError.badField('body.newPassword', 'must differ from the current password');
      if (body.newPassword.toLowerCase().includes(user.username))
        throw AppError.badField('body.newPassword', 'must not contain the username');
      const passwordHash = await hashPassword(body.newPassword);
      await prisma.$transaction(async (tx) => {
        await tx.user.update({ where: { id: user.id }, data: { passwordHash, mustChangePassword: false } });
        await tx.session.updateMany({
          where: { userId: user.id, revokedAt: null, ...(sessionId ? { id: { not: sessionId } } : {}) },
          data: { revokedAt: new Date() },
        });
        await appendAudit(tx, {
          ...ctx.auditFields(),
          action: 'user.password.change',
          targetType: 'user',
          targetId: user.id,
          target: user.username,
        });
      });
      return {
        username: user.username,
        role: roleFromDb(user.role),
        mustChangePassword: false,
        kind: 'user' as const,
      };
    },
  };
}
export type AuthService = ReturnType<typeof createAuthService>;
