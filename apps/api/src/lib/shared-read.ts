/**
 * Group-commit reads: concurrent callers asking for the same key share one database read, but
 * only a read that STARTED after they arrived — a read already running may have looked before a
 * caller's own change (a sign-out, a revocation, a traffic switch) committed. So every caller
 * gets an answer at least as new as its arrival, and under load there is one read per key per
 * round trip instead of one per request (bench/README.md "The read path").
 */
export function sharedReads<K, V>(read: (key: K) => Promise<V>): (key: K) => Promise<V> {
  const running = new Map<K, Promise<V>>();
  const queued = new Map<K, Promise<V>>();
  function start(key: K): Promise<V> {
    const p = read(key).finally(() => {
      if (running.get(key) === p) running.delete(key);
    });
    running.set(key, p);
    return p;
  }
  return (key: K) => {
    const now = running.get(key);
    if (!now) return start(key);
    let next = queued.get(key);
    if (!next) {
      next = now
        .catch(() => {})
        .then(() => {
          queued.delete(key);
          return start(key);
        });
      queued.set(key, next);
    }
    return next;
  };
}
