import type { Db } from '../client.ts';
import type { Prisma } from '../generated/client.ts';

/** Idempotency keys (table idempotency_keys): a reservation (status 0), then the stored answer. */
export function createIdempotencyRepo(root: Db) {
  return {
    /** Fails with P2002 when (scope, key) is taken. */
    reserve(scope: string, key: string, requestHash: string, db: Db = root) {
      return db.idempotencyKey.create({ data: { scope, key, requestHash, statusCode: 0, response: {} } });
    },
    find(scope: string, key: string, db: Db = root) {
      return db.idempotencyKey.findUnique({ where: { scope_key: { scope, key } } });
    },
    /** Drop a reservation that never got an answer (its process died). */
    dropReservation(scope: string, key: string, db: Db = root) {
      return db.idempotencyKey.deleteMany({ where: { scope, key, statusCode: 0 } });
    },
    /** Store the answer to replay. */
    complete(scope: string, key: string, statusCode: number, response: Prisma.InputJsonValue, db: Db = root) {
      return db.idempotencyKey.update({
        where: { scope_key: { scope, key } },
        data: { statusCode, response },
      });
    },
    /** Forget the key: a retry acts again. */
    release(scope: string, key: string, db: Db = root) {
      return db.idempotencyKey.deleteMany({ where: { scope, key } });
    },
  };
}
export type IdempotencyRepo = ReturnType<typeof createIdempotencyRepo>;
