import {
  appendAudit,
  type LoginThrottleRepo,
  type SessionRepo,
  type TokenRepo,
  type Transact,
  type UserRepo,
} from '@qubot/db';
import { notifyCredentialsChanged } from '../events/revocation.ts';
import { AppError, ErrorCode } from '../lib/app-error.ts';
import { hashPassword, PASSWORD_MIN, randomSecret, sha256, verifyPassword } from '../lib/password.ts';
import { roleFromDb } from '../lib/permissions.ts';
import type { Credentials, RequestContext } from '../lib/request-context.ts';
import { sharedReads } from '../lib/shared-read.ts';
import { createLoginThrottle } from './login-throttle.ts';

export const SESSION_COOKIE = 'qubot_session';
export const CSRF_COOKIE = 'qubot_csrf';
export const TOKEN_PREFIX = 'qbt_';

export interface AuthOptions {
  /** Idle timeout: every request within it slides the expiry (default 12 h). */
  sessionTtlMs: number;
  /** Hard cap on a session's life however active it is (default 7 days). */
  sessionMaxMs: number;
  /**
   * Failed sign-ins to one account from one address before that address is locked out of that
   * account (default 5). Other addresses are not affected (docs/security.md "Sign-in throttling").
   */
  maxFailedLogins: number;
  /** Failed sign-ins from one address, to any accounts, before the address is locked (default 30). */
  maxFailedLoginsPerAddress: number;
  /**
   * Failed sign-ins to one account from all addresses (a distributed guess) after which only
   * addresses it signed in from within `trustedAddressMs` may try (default 100).
   */
  maxFailedLoginsPerAccount: number;
  /** The first lock; each further lock of the same address doubles it (default 1 min). */
  lockoutMs: number;
  /** The longest lock (default 1 h). */
  maxLockoutMs: number;
  /** Failures older than this are forgotten (default 15 min). */
  failureWindowMs: number;
  /** How long an address the account signed in from stays trusted (default 30 days). */
  trustedAddressMs: number;
}

export const DEFAULT_AUTH_OPTIONS: AuthOptions = {
  sessionTtlMs: 12 * 3600_000,
  sessionMaxMs: 7 * 24 * 3600_000,
  maxFailedLogins: 5,
  maxFailedLoginsPerAddress: 30,
  maxFailedLoginsPerAccount: 100,
  lockoutMs: 60_000,
  maxLockoutMs: 3600_000,
  failureWindowMs: 15 * 60_000,
  trustedAddressMs: 30 * 24 * 3600_000,
};

const INVALID = 'invalid username or password';
// Don't write to the session row on every request: slide at most once a minute.
const TOUCH_EVERY_MS = 60_000;

export function parseBearer(header: string | undefined): string | null {
  if (!header) return null;
  const m = /^Bearer\s+(\S+)$/i.exec(header);
  return m?.[1] ?? null;
}

export function createAuthService(deps: {
  transact: Transact;
  users: Pick<UserRepo, 'get' | 'findByUsername' | 'update' | 'markLocked'>;
  sessions: Pick<SessionRepo, 'findWithUser' | 'touch' | 'create' | 'revoke' | 'revokeAllOf'>;
  tokens: Pick<TokenRepo, 'findByHash' | 'touch'>;
  throttles: Pick<LoginThrottleRepo, 'lockRows' | 'save' | 'prune'>;
  options?: Partial<AuthOptions> | undefined;
}) {
  const opts = { ...DEFAULT_AUTH_OPTIONS, ...deps.options };
  const { transact, users, sessions, tokens } = deps;
  const throttle = createLoginThrottle({
    transact,
    rows: deps.throttles,
    options: {
      maxFailures: opts.maxFailedLogins,
      maxFailuresPerAddress: opts.maxFailedLoginsPerAddress,
      maxFailuresPerAccount: opts.maxFailedLoginsPerAccount,
      lockoutMs: opts.lockoutMs,
      maxLockoutMs: opts.maxLockoutMs,
      failureWindowMs: opts.failureWindowMs,
      trustedAddressMs: opts.trustedAddressMs,
    },
  });
  // Unknown usernames are checked against this hash (same argon2 settings): the same work, so
  // the same time, as a wrong password. Made at start, so the first probe is not the slow one.
  const dummyHash = hashPassword(randomSecret(16));
  dummyHash.catch(() => {});

  // Requests of one session (a dashboard's parallel reads, a poller) share lookups that started
  // after they arrived: as fresh as one lookup each (lib/shared-read.ts).
  const sessionReads = sharedReads(sessions.findWithUser);
  const tokenReads = sharedReads(tokens.findByHash);

  async function fromSession(cookieValue: string): Promise<Credentials | null> {
    if (cookieValue.length > 200) return null;
    const id = sha256(cookieValue);
    const row = await sessionReads(id);
    const now = Date.now();
    if (!row || row.revokedAt || row.expiresAt.getTime() <= now || row.user.disabled) return null;
    if (now - row.lastSeenAt.getTime() > TOUCH_EVERY_MS) {
      const cap = row.createdAt.getTime() + opts.sessionMaxMs;
      await sessions.touch(id, {
        lastSeenAt: new Date(now),
        expiresAt: new Date(Math.min(now + opts.sessionTtlMs, cap)),
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
      validUntil: row.expiresAt.getTime(),
    };
  }

  async function fromToken(secret: string): Promise<Credentials | null> {
    if (!secret.startsWith(TOKEN_PREFIX) || secret.length > 200) return null;
    const row = await tokenReads(sha256(secret));
    const now = Date.now();
    if (!row || row.revokedAt || (row.expiresAt && row.expiresAt.getTime() <= now)) return null;
    if (!row.lastUsedAt || now - row.lastUsedAt.getTime() > TOUCH_EVERY_MS) {
      await tokens.touch(row.id, new Date(now));
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
      ...(row.expiresAt ? { validUntil: row.expiresAt.getTime() } : {}),
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

    throttle,

    /**
     * Sign in. Known and unknown usernames take the same path — throttle reservation, one argon2
     * verification, one failure transaction with its audit entry — so status, message and time
     * are the same (docs/security.md "Sign-in throttling").
     */
    async login(
      ctx: Pick<RequestContext, 'requestId' | 'clientIp' | 'userAgent'>,
      body: { username: string; password: string },
    ) {
      const username = body.username.toLowerCase();
      const address = ctx.clientIp ?? 'unknown';
      const at = new Date();
      const now = at.getTime();
      const gate = await throttle.reserve(username, address, at);
      if (!gate.ok) {
        const minutes = Math.max(1, Math.ceil((gate.retryAt.getTime() - now) / 60_000));
        throw new AppError(
          ErrorCode.RateLimited,
          `too many failed sign-in attempts; try again in ${minutes} minute${minutes === 1 ? '' : 's'}`,
          { retryAfterSeconds: Math.max(1, Math.ceil((gate.retryAt.getTime() - now) / 1000)) },
        );
      }
      const user = await users.findByUsername(username);
      const ok = await verifyPassword(user?.passwordHash ?? (await dummyHash), body.password);
      const audit = {
        actor: username,
        role: user ? roleFromDb(user.role) : null,
        targetType: 'user',
        targetId: user?.id ?? null,
        target: username,
        requestId: ctx.requestId,
        clientIp: ctx.clientIp,
        userAgent: ctx.userAgent,
      };
      if (!user || !ok || user.disabled) {
        await transact(async (tx) => {
          const locks = await throttle.failed(tx, username, address, at);
          // Shown to admins (users list); the lock itself is per address.
          if (locks.some((l) => l.scope === 'pair'))
            await users.markLocked(
              username,
              new Date(Math.max(...locks.map((l) => Date.parse(l.until)))),
              tx,
            );
          await appendAudit(tx, {
            ...audit,
            action: locks.length > 0 ? 'auth.lockout' : 'auth.login.failed',
            after: locks.length > 0 ? { address, locks } : { address },
          });
        });
        if (Math.random() < 0.01) await throttle.prune(at);
        throw new AppError(ErrorCode.Unauthenticated, INVALID);
      }
      await throttle.succeeded(username, address, at);
      const cookieValue = randomSecret();
      const csrfToken = randomSecret();
      await transact(async (tx) => {
        if (user.lockedUntil) await users.update(user.id, { failedLogins: 0, lockedUntil: null }, tx);
        await sessions.create(
          {
            id: sha256(cookieValue),
            userId: user.id,
            csrfToken,
            expiresAt: new Date(now + Math.min(opts.sessionTtlMs, opts.sessionMaxMs)),
            clientIp: ctx.clientIp,
            userAgent: ctx.userAgent,
          },
          tx,
        );
        await appendAudit(tx, { ...audit, actor: user.username, action: 'auth.login' });
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
      await transact(async (tx) => {
        const res = await sessions.revoke(sessionId, tx);
        if (res.count > 0)
          await appendAudit(tx, {
            ...ctx.auditFields(),
            action: 'auth.logout',
            targetType: 'user',
            targetId: ctx.actor.userId ?? null,
            target: ctx.actor.name,
          });
        await notifyCredentialsChanged(tx, { reason: 'logout', sessionId });
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
      const user = await users.get(ctx.actor.userId);
      if (!(await verifyPassword(user.passwordHash, body.currentPassword)))
        throw AppError.badField('body.currentPassword', 'is not your current password');
      if (body.newPassword.length < PASSWORD_MIN)
        throw AppError.badField('body.newPassword', `must be at least ${PASSWORD_MIN} characters`);
      if (body.newPassword === body.currentPassword)
        throw AppError.badField('body.newPassword', 'must differ from the current password');
      if (body.newPassword.toLowerCase().includes(user.username))
        throw AppError.badField('body.newPassword', 'must not contain the username');
      const passwordHash = await hashPassword(body.newPassword);
      await transact(async (tx) => {
        await users.update(user.id, { passwordHash, mustChangePassword: false }, tx);
        await sessions.revokeAllOf(user.id, sessionId, tx);
        await appendAudit(tx, {
          ...ctx.auditFields(),
          action: 'user.password.change',
          targetType: 'user',
          targetId: user.id,
          target: user.username,
        });
        await notifyCredentialsChanged(tx, { reason: 'password', userId: user.id });
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
