// The per-deployment lease: a PostgreSQL session advisory lock held on a dedicated connection
// for as long as a worker drives the deployment. Only one worker in the cluster can hold it,
// and it is released by the server the moment the holder's connection dies (SIGKILL, crash,
// network loss) — another worker, or the restarted one, takes over at once instead of
// waiting for a job to time out.
import type { Database } from '@qubot/db';
import type { PoolClient } from 'pg';

const NAMESPACE = 0x51b0; // "Qubot" deployments

export interface Lease {
  release(): Promise<void>;
}

/**
 * `onLost` is called once if the lease's connection dies while it is held (the server has then
 * released the lock, and another worker may take the deployment over): a lease loss, counted on
 * /metrics (`qubot_lease_losses_total`).
 */
export async function tryLease(
  db: Pick<Database, 'pool'>,
  deploymentId: string,
  onLost?: () => void,
): Promise<Lease | null> {
  let client: PoolClient;
  try {
    client = await db.pool.connect();
  } catch {
    return null;
  }
  try {
    const { rows } = await client.query<{ ok: boolean }>(
      'SELECT pg_try_advisory_lock($1, hashtext($2)) AS ok',
      [NAMESPACE, deploymentId],
    );
    if (!rows[0]?.ok) {
      client.release();
      return null;
    }
  } catch {
    client.release(true);
    return null;
  }
  let released = false;
  let lost = false;
  const onError = () => {
    if (released || lost) return;
    lost = true;
    onLost?.();
  };
  client.on('error', onError);
  return {
    async release() {
      if (released) return;
      released = true;
      if (lost) {
        client.release(true);
        return;
      }
      try {
        await client.query('SELECT pg_advisory_unlock($1, hashtext($2))', [NAMESPACE, deploymentId]);
        // Back to the pool, which watches its idle clients itself: no listener piles up on reuse.
        client.off('error', onError);
        client.release();
      } catch {
        // The connection is gone, and the lock with it.
        client.release(true);
      }
    },
  };
}
