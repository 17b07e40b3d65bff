import {
  appendAudit,
  createTransact,
  createUserRepo,
  type Database,
  type LoginThrottleRepo,
  type SessionRepo,
  type Transact,
  type UserRepo,
} from '@qubot/db';
import { notifyCredentialsChanged } from '../events/revocation.ts';
import { AppError } from '../lib/app-error.ts';
import { generatePassword, hashPassword, PASSWORD_MIN } from '../lib/password.ts';
import { requirePermission, roleFromDb, roleToDb } from '../lib/permissions.ts';
import type { RequestContext, RoleName } from '../lib/request-context.ts';

export interface UserView {
  id: string;
  username: string;
  displayName: string | null;
  role: RoleName;
  disabled: boolean;
  mustChangePassword: boolean;
  lockedUntil: string | null;
  createdAt: string;
}

type UserRow = {
  id: string;
  username: string;
  displayName: string | null;
  role: string;
  disabled: boolean;
  mustChangePassword: boolean;
  lockedUntil: Date | null;
  createdAt: Date;
};

export function userView(u: UserRow): UserView {
  return {
    id: u.id,
    username: u.username,
    displayName: u.displayName,
    role: roleFromDb(u.role),
    disabled: u.disabled,
    mustChangePassword: u.mustChangePassword,
    lockedUntil: u.lockedUntil && u.lockedUntil.getTime() > Date.now() ? u.lockedUntil.toISOString() : null,
    createdAt: u.createdAt.toISOString(),
  };
}

function checkPassword(password: string, username: string, field: string) {
  if (password.length < PASSWORD_MIN)
    throw AppError.badField(field, `must be at least ${PASSWORD_MIN} characters`);
  if (password.toLowerCase().includes(username))
    throw AppError.badField(field, 'must not contain the username');
}

/** People and their roles; admin only (DESIGN §7). */
export function createUserService(deps: {
  transact: Transact;
  users: Pick<UserRepo, 'list' | 'create' | 'findById' | 'update' | 'countEnabledAdmins' | 'lockAdmins'>;
  sessions: Pick<SessionRepo, 'revokeAllOf'>;
  throttles: Pick<LoginThrottleRepo, 'clear'>;
}) {
  const { users, transact } = deps;
  return {
    async list(ctx: RequestContext): Promise<{ items: UserView[]; nextCursor: null }> {
      requirePermission(ctx, 'users.manage');
      const rows = await users.list();
      return { items: rows.map(userView), nextCursor: null };
    },

    /** Without a password, a one-time password is generated and returned once; either way it must be changed at first sign-in. */
    async create(
      ctx: RequestContext,
      body: {
        username: string;
        role: RoleName;
        password?: string | undefined;
        displayName?: string | undefined;
      },
    ): Promise<{ user: UserView; oneTimePassword: string | null }> {
      requirePermission(ctx, 'users.manage');
      const username = body.username.toLowerCase();
      if (body.password !== undefined) checkPassword(body.password, username, 'body.password');
      const oneTimePassword = body.password === undefined ? generatePassword() : null;
      const passwordHash = await hashPassword(body.password ?? (oneTimePassword as string));
      try {
        const row = await transact(async (tx) => {
          const created = await users.create(
            {
              username,
              displayName: body.displayName ?? null,
              role: roleToDb(body.role),
              passwordHash,
              mustChangePassword: true,
            },
            tx,
          );
          await appendAudit(tx, {
            ...ctx.auditFields(),
            action: 'user.create',
            targetType: 'user',
            targetId: created.id,
            target: username,
            after: { username, role: body.role },
          });
          return created;
        });
        return { user: userView(row), oneTimePassword };
      } catch (err) {
        if ((err as { code?: string }).code === 'P2002')
          throw AppError.conflict(`user "${username}" already exists`, { field: 'body.username' });
        throw err;
      }
    },

    async update(
      ctx: RequestContext,
      id: string,
      body: {
        role?: RoleName | undefined;
        disabled?: boolean | undefined;
        displayName?: string | null | undefined;
        resetPassword?: boolean | undefined;
        unlock?: boolean | undefined;
      },
    ): Promise<{ user: UserView; oneTimePassword: string | null }> {
      requirePermission(ctx, 'users.manage');
      const oneTimePassword = body.resetPassword ? generatePassword() : null;
      const passwordHash = oneTimePassword ? await hashPassword(oneTimePassword) : null;
      const row = await transact(async (tx) => {
        // Serialise admin changes so two demotions at once cannot leave no admin.
        await users.lockAdmins(tx);
        const before = await users.findById(id, tx);
        if (!before) throw AppError.notFound(`user ${id}`, { field: 'params.id' });
        const losesAdmin =
          before.role === 'admin' &&
          !before.disabled &&
          ((body.role !== undefined && body.role !== 'admin') || body.disabled === true);
        if (losesAdmin) {
          const admins = await users.countEnabledAdmins(tx);
          if (admins <= 1)
            throw AppError.conflict('at least one enabled admin must remain', {
              field: body.disabled ? 'body.disabled' : 'body.role',
            });
        }
        const updated = await users.update(
          id,
          {
            ...(body.role !== undefined ? { role: roleToDb(body.role) } : {}),
            ...(body.disabled !== undefined ? { disabled: body.disabled } : {}),
            ...(body.displayName !== undefined ? { displayName: body.displayName } : {}),
            ...(passwordHash ? { passwordHash, mustChangePassword: true } : {}),
            ...(body.unlock || passwordHash ? { failedLogins: 0, lockedUntil: null } : {}),
          },
          tx,
        );
        // Unlock (or a new password): every address locked out of this account may try again.
        if (body.unlock || passwordHash) await deps.throttles.clear(before.username, tx);
        // A disabled user or a reset password ends every open session at once.
        if (body.disabled || passwordHash) await deps.sessions.revokeAllOf(id, null, tx);
        // Open event stream sockets of this user are re-checked (closed or downgraded) on commit.
        if (body.role !== undefined || body.disabled || passwordHash)
          await notifyCredentialsChanged(tx, {
            reason: body.disabled ? 'disabled' : passwordHash ? 'password' : 'role',
            userId: id,
          });
        const pick = (u: typeof before) => ({
          role: roleFromDb(u.role),
          disabled: u.disabled,
          displayName: u.displayName,
        });
        await appendAudit(tx, {
          ...ctx.auditFields(),
          action: passwordHash ? 'user.password.reset' : 'user.update',
          targetType: 'user',
          targetId: id,
          target: before.username,
          before: pick(before),
          after: { ...pick(updated), ...(body.unlock ? { unlocked: true } : {}) },
        });
        return updated;
      });
      return { user: userView(row), oneTimePassword };
    },
  };
}
export type UserService = ReturnType<typeof createUserService>;

/**
 * First start: when there are no users at all, create `admin` with a random
 * one-time password (returned so main.ts can print it once) that must be changed.
 */
export async function ensureFirstAdmin(db: Pick<Database, 'prisma'>): Promise<string | null> {
  const users = createUserRepo(db.prisma);
  if ((await users.count()) > 0) return null;
  const password = generatePassword();
  const passwordHash = await hashPassword(password);
  return createTransact(db.prisma)(async (tx) => {
    await users.lockAdmins(tx);
    // Two processes starting at once: only the first creates the admin.
    if ((await users.count(tx)) > 0) return null;
    const user = await users.create(
      { username: 'admin', role: 'admin', passwordHash, mustChangePassword: true },
      tx,
    );
    await appendAudit(tx, {
      actor: 'system',
      role: 'admin',
      action: 'user.create',
      targetType: 'user',
      targetId: user.id,
      target: 'admin',
      reason: 'first start',
      after: { username: 'admin', role: 'admin' },
    });
    return password;
  });
}

export const DEMO_USERS: ReadonlyArray<{ username: string; role: RoleName; password: string }> = (
  ['admin', 'release-manager', 'deployer', 'viewer'] as const
).map((role) => ({ username: role, role, password: `demo-${role}` }));

/** Demo mode only: the four demo users (password `demo-<username>`); existing users are left alone. */
export async function seedDemoUsers(db: Pick<Database, 'prisma'>) {
  const users = createUserRepo(db.prisma);
  for (const u of DEMO_USERS) {
    const exists = await users.findByUsername(u.username);
    if (exists) continue;
    await users.create({
      username: u.username,
      role: roleToDb(u.role),
      passwordHash: await hashPassword(u.password),
      mustChangePassword: false,
    });
  }
}
