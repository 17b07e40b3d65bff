// Idempotency-Key on every POST (DESIGN §3): the first answer to (actor, method, path, key) is
// stored; a retry with the same body gets it back without acting again, a different body with
// the same key is refused (409 naming the header), a retry while the first is still running
// waits for nothing and is told so (409).
import { createHash } from 'node:crypto';
import type { IdempotencyRepo } from '@qubot/db';
import { AppError, ErrorCode } from '../lib/app-error.ts';

export interface StoredResponse {
  status: number;
  body: unknown;
  replayed: boolean;
}

/** A reservation older than this is from a process that died mid-request: it may be taken over. */
const STALE_MS = 2 * 60_000;
const HEADER_FIELD = 'headers.idempotency-key';

function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (v && typeof v === 'object') {
    return Object.fromEntries(
      Object.keys(v as object)
        .sort()
        .map((k) => [k, canonical((v as Record<string, unknown>)[k])]),
    );
  }
  return v;
}

export const requestHash = (body: unknown) =>
  createHash('sha256')
    .update(JSON.stringify(canonical(body ?? null)))
    .digest('hex');

export function createIdempotencyService(deps: {
  keys: Pick<IdempotencyRepo, 'reserve' | 'find' | 'dropReservation' | 'complete' | 'release'>;
}) {
  const { keys } = deps;

  async function reserve(scope: string, key: string, hash: string): Promise<StoredResponse | null> {
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        await keys.reserve(scope, key, hash);
        return null;
      } catch (err) {
        if ((err as { code?: string }).code !== 'P2002') throw err;
      }
      const row = await keys.find(scope, key);
      if (!row) continue;
      if (row.requestHash !== hash) {
        throw new AppError(
          ErrorCode.Conflict,
          'Idempotency-Key was already used for a different request; use a new key for a new request',
          { field: HEADER_FIELD, reason: 'idempotency_key_reused' },
        );
      }
      if (row.statusCode !== 0) return { status: row.statusCode, body: row.response, replayed: true };
      if (Date.now() - row.createdAt.getTime() < STALE_MS) {
        throw new AppError(
          ErrorCode.Conflict,
          'a request with this Idempotency-Key is still being processed',
          {
            field: HEADER_FIELD,
            reason: 'idempotency_in_progress',
          },
        );
      }
      await keys.dropReservation(scope, key);
    }
    throw new AppError(ErrorCode.Conflict, 'Idempotency-Key is contended; retry', { field: HEADER_FIELD });
  }

  return {
    /**
     * Runs `handler` once per key. Its answer — success or a 4xx AppError — is stored and
     * replayed; anything else (a 5xx) releases the key so a retry acts again.
     */
    async run(
      req: {
        actor: string;
        method: string;
        path: string;
        key: string | undefined;
        body: unknown;
        requestId: string;
      },
      handler: () => Promise<{ status: number; body: unknown }>,
    ): Promise<StoredResponse> {
      if (!req.key) return { ...(await handler()), replayed: false };
      const scope = `${req.actor} ${req.method} ${req.path}`.slice(0, 500);
      const hash = requestHash(req.body);
      const stored = await reserve(scope, req.key, hash);
      if (stored) return stored;
      let result: { status: number; body: unknown };
      try {
        result = await handler();
      } catch (err) {
        if (err instanceof AppError && err.statusCode < 500) {
          const body = {
            error: { code: err.code, message: err.message, ...(err.details ? { details: err.details } : {}) },
            requestId: req.requestId,
          };
          await keys.complete(scope, req.key, err.statusCode, body as object);
        } else {
          await keys.release(scope, req.key).catch(() => {});
        }
        throw err;
      }
      await keys.complete(scope, req.key, result.status, result.body as object);
      return { ...result, replayed: false };
    },
  };
}
export type IdempotencyService = ReturnType<typeof createIdempotencyService>;
