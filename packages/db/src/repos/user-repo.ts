import type { Db } from '../client.ts';
import type { Prisma, Role } from '../generated/client.ts';

/** People (table users). */
export function createUserRepo(root: Db) {
  return {
    list(db: Db = root) {
      return db.user.findMany({ orderBy: { username: 'asc' } });
    },
    count(db: Db = root) {
      return db.user.count();
    },
    countEnabledAdmins(db: Db = root) {
      return db.user.count({ where: { role: 'admin', disabled: false } });
    },
    findById(id: string, db: Db = root) {
      return db.user.findUnique({ where: { id } });
    },
    /** The user, or Prisma's not-found error. */
    get(id: string, db: Db = root) {
      return db.user.findUniqueOrThrow({ where: { id } });
    },
    findByUsername(username: string, db: Db = root) {
      return db.user.findUnique({ where: { username } });
    },
    create(
      data: {
        username: string;
        displayName?: string | null;
        role: Role;
        passwordHash: string;
        mustChangePassword: boolean;
      },
      db: Db = root,
    ) {
      return db.user.create({ data });
    },
    update(id: string, data: Prisma.UserUpdateInput, db: Db = root) {
      return db.user.update({ where: { id }, data });
    },
    /** Serialises changes to who is admin (held until the transaction ends). */
    async lockAdmins(tx: Db) {
      await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext('qubot.users'))`;
    },
    /** Shown to admins (users list) after a sign-in lockout; the lock itself is per address. */
    async markLocked(username: string, until: Date, db: Db = root) {
      await db.$executeRaw`UPDATE users SET locked_until = ${until} WHERE username = ${username}`;
    },
  };
}
export type UserRepo = ReturnType<typeof createUserRepo>;
