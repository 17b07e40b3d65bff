import type { Database } from '@qubot/db';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createViewCache } from './view-cache.ts';

/**
 * A pool whose counter reads answer only when released, with the counter's value as it was
 * when each read started (what PostgreSQL's snapshot gives): lets the test interleave a commit
 * with a read that is already running, deterministically.
 */
function controlledPool() {
  let counter = 1;
  const reads: { value: number; release: () => void }[] = [];
  const pool = {
    query() {
      const value = counter;
      return new Promise((resolve) => {
        reads.push({ value, release: () => resolve({ rows: [{ v: String(value) }] }) });
      });
    },
  } as unknown as Database['pool'];
  return {
    pool,
    reads,
    commit() {
      counter++;
    },
  };
}
const tick = () => new Promise((r) => setImmediate(r));

/** A build the test finishes (or fails) when it wants to. */
function deferredBuild(value: string) {
  let finish!: () => void;
  let fail!: () => void;
  const body = new Promise<string>((resolve, reject) => {
    finish = () => resolve(value);
    fail = () => reject(new Error('database away'));
  });
  return { build: () => body, finish, fail };
}

/** What a read gives before the event loop turns: a read that waits for a build gives 'waited'. */
const atOnce = <T>(read: Promise<T>) => Promise.race([read, tick().then(() => 'waited' as const)]);

describe('view cache', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('past half its max age a view is rebuilt in the background: no read waits for it, none gets a view older than maxAgeMs', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(0);
    const db = controlledPool();
    const cache = createViewCache({ db: { pool: db.pool }, maxAgeMs: 1000 });
    cache.listening(true);
    expect(await cache.get('k', async () => 'view 1')).toBe('view 1'); // built at 0

    vi.setSystemTime(400); // under half its age: served, nothing rebuilt
    expect(await atOnce(cache.get('k', async () => 'must not build'))).toBe('view 1');

    // Past half its age: answered at once from the current view, one rebuild starts behind it.
    vi.setSystemTime(600);
    const second = deferredBuild('view 2');
    expect(await atOnce(cache.get('k', second.build))).toBe('view 1');
    expect(await atOnce(cache.get('k', async () => 'a second rebuild must not start'))).toBe('view 1');
    expect(cache.stats()).toMatchObject({ builds: 2, refreshes: 1 });
    second.finish();
    await tick();
    vi.setSystemTime(700);
    expect(await atOnce(cache.get('k', async () => 'must not build'))).toBe('view 2'); // built at 600

    // A failed rebuild leaves the view to its max age; the next read past half its age tries again.
    vi.setSystemTime(1200);
    const failing = deferredBuild('never');
    expect(await atOnce(cache.get('k', failing.build))).toBe('view 2');
    failing.fail();
    await tick();
    const third = deferredBuild('view 3');
    expect(await atOnce(cache.get('k', third.build))).toBe('view 2');
    expect(cache.stats()).toMatchObject({ builds: 4, refreshes: 3 });

    // The rebuild is still running when the view reaches its max age: that read waits for a fresh
    // build, and the late rebuild does not replace the fresh view.
    vi.setSystemTime(1600);
    const fresh = deferredBuild('view 4');
    const waiting = cache.get('k', fresh.build);
    expect(await atOnce(waiting)).toBe('waited');
    fresh.finish();
    expect(await waiting).toBe('view 4');
    third.finish();
    await tick();
    expect(await atOnce(cache.get('k', async () => 'must not build'))).toBe('view 4');

    // A change arrives while a rebuild runs: the next read builds afresh and waits for it; the
    // rebuild (it may have read before the change) is dropped.
    vi.setSystemTime(2200);
    const behind = deferredBuild('view 5 (read before the change)');
    expect(await atOnce(cache.get('k', behind.build))).toBe('view 4');
    cache.notified(1);
    const after = deferredBuild('view 6');
    const afterRead = cache.get('k', after.build);
    expect(await atOnce(afterRead)).toBe('waited');
    after.finish();
    behind.finish();
    expect(await afterRead).toBe('view 6');
    await tick();
    expect(await atOnce(cache.get('k', async () => 'must not build'))).toBe('view 6');
    expect(db.reads).toHaveLength(0); // notification mode throughout: no counter read
  });

  it('a read that arrives after a commit never shares a counter read that started before it', async () => {
    const db = controlledPool();
    const cache = createViewCache({ db: { pool: db.pool }, maxAgeMs: 60_000 });
    let version = 1;
    const build = async () => `view ${version}`;

    const a = cache.get('k', build); // its counter read starts now, sees 1
    await tick();
    version = 2;
    db.commit(); // committed while A's counter read is still running
    const b = cache.get('k', build); // must not join A's read
    const c = cache.get('k', build); // arrives with B: shares B's read
    await tick();
    expect(db.reads).toHaveLength(1);
    db.reads[0]?.release();
    expect(await a).toBe('view 2'); // built after the commit: newer than its counter, never older
    await tick();
    expect(db.reads).toHaveLength(2);
    expect(db.reads[1]?.value).toBe(2);
    db.reads[1]?.release();
    expect(await b).toBe('view 2');
    expect(await c).toBe('view 2');
    expect(cache.stats()).toMatchObject({ seqReads: 2, builds: 2, hits: 1 });

    // Nothing committed since: served from the cache without building.
    const d = cache.get('k', async () => 'must not build');
    await tick();
    db.reads[2]?.release();
    expect(await d).toBe('view 2');
  });

  it('keeps no failed build, and gives up a view after maxAgeMs', async () => {
    const db = controlledPool();
    const cache = createViewCache({ db: { pool: db.pool }, maxAgeMs: 0 });
    const release = async () => {
      await tick();
      for (const r of db.reads.splice(0)) r.release();
    };
    const failing = cache.get('k', async () => {
      throw new Error('not found');
    });
    await release();
    await expect(failing).rejects.toThrow('not found');
    const first = cache.get('k', async () => 'one');
    await release();
    expect(await first).toBe('one');
    const second = cache.get('k', async () => 'two');
    await release();
    expect(await second).toBe('two'); // maxAgeMs 0: rebuilt although the counter did not move
  });

  it('while notifications arrive: no counter read; a notification, a local write or a gap in listening each make the next read fresh', async () => {
    const db = controlledPool();
    const cache = createViewCache({ db: { pool: db.pool }, localWriteMs: 60_000 });
    let version = 0;
    const build = async () => `view ${++version}`;
    cache.listening(true);
    expect(await cache.get('k', build)).toBe('view 1');
    expect(await cache.get('k', build)).toBe('view 1');
    expect(cache.stats()).toMatchObject({ seqReads: 0, builds: 1, hits: 1 });
    // Another process committed: its notification arrives.
    cache.notified(7);
    expect(await cache.get('k', build)).toBe('view 2');
    // Listening was lost and came back: notifications may have been missed.
    cache.listening(false);
    cache.listening(true);
    expect(await cache.get('k', build)).toBe('view 3');
    expect(db.reads).toHaveLength(0);
    // A change through this process: reads check the counter (for localWriteMs).
    cache.localWrite();
    const checked = cache.get('k', build);
    await tick();
    expect(db.reads).toHaveLength(1);
    db.reads.splice(0).forEach((r) => {
      r.release();
    });
    expect(await checked).toBe('view 4');
    // Not listening: every read checks the counter.
    const off = createViewCache({ db: { pool: db.pool } });
    const read = off.get('k', build);
    await tick();
    expect(db.reads).toHaveLength(1);
    db.reads.splice(0).forEach((r) => {
      r.release();
    });
    expect(await read).toBe('view 5');
  });

  it('a rebuilt Buffer body is counted in place of the one it replaces, in the background and after a change', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(0);
    const db = controlledPool();
    const cache = createViewCache({ db: { pool: db.pool }, maxAgeMs: 1000 });
    cache.listening(true);
    await cache.get('k', async () => Buffer.alloc(600));
    expect(cache.stats()).toMatchObject({ entries: 1, bytes: 600 });
    vi.setSystemTime(600); // past half its age: rebuilt in the background
    expect((await cache.get('k', async () => Buffer.alloc(400))).length).toBe(600);
    await tick();
    expect(cache.stats()).toMatchObject({ entries: 1, bytes: 400, refreshes: 1 });
    cache.notified(1); // a change: the next read builds afresh and waits
    expect((await cache.get('k', async () => Buffer.alloc(300))).length).toBe(300);
    expect(cache.stats()).toMatchObject({ entries: 1, bytes: 300 });
  });

  it('keeps Buffer bodies within maxBytes, and builds every read when disabled', async () => {
    const db = controlledPool();
    const cache = createViewCache({ db: { pool: db.pool }, maxBytes: 1000 });
    cache.listening(true);
    for (const key of ['a', 'b', 'c']) await cache.get(key, async () => Buffer.alloc(600));
    // 'a' and 'b' made 1,200 bytes: 'c' cleared them before it was kept.
    expect(cache.stats()).toMatchObject({ entries: 1, bytes: 600, builds: 3 });
    await cache.get('c', async () => Buffer.alloc(600));
    expect(cache.stats()).toMatchObject({ hits: 1, builds: 3 });

    const off = createViewCache({ db: { pool: db.pool }, enabled: false });
    off.listening(true);
    let builds = 0;
    const build = async () => `view ${++builds}`;
    expect(await off.get('k', build)).toBe('view 1');
    expect(await off.get('k', build)).toBe('view 2');
    expect(off.stats()).toMatchObject({ hits: 0, builds: 2, entries: 0, seqReads: 0 });
  });
});
