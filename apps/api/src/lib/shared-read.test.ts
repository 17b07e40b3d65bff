import { expect, it } from 'vitest';
import { sharedReads } from './shared-read.ts';

it('callers share a read only if it started after they arrived; keys never share', async () => {
  let state = 'before';
  const started: { key: string; saw: string; release: () => void }[] = [];
  const read = sharedReads(
    (key: string) =>
      new Promise<string>((resolve) => {
        const saw = state; // what the database's snapshot would see when the read starts
        started.push({ key, saw, release: () => resolve(`${key}:${saw}`) });
      }),
  );
  const tick = () => new Promise((r) => setImmediate(r));
  const a = read('s1');
  const other = read('s2');
  state = 'after'; // e.g. the session was revoked now
  const b = read('s1');
  const c = read('s1');
  await tick();
  expect(started.map((s) => s.key)).toEqual(['s1', 's2']);
  for (const s of started.splice(0)) s.release();
  expect(await a).toBe('s1:before');
  expect(await other).toBe('s2:before');
  await tick();
  expect(started).toHaveLength(1);
  started[0]?.release();
  expect(await b).toBe('s1:after');
  expect(await c).toBe('s1:after');
});
