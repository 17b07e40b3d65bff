import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { followLog } from './log-follow.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** Resolves with the lines once `n` have arrived. */
function collect(path: string, n: number) {
  const got: string[] = [];
  let resolve!: (v: string[]) => void;
  const done = new Promise<string[]>((r) => {
    resolve = r;
  });
  const f = followLog(
    path,
    (lines) => {
      got.push(...lines);
      if (got.length >= n) resolve(got);
    },
    { pollMs: 20 },
  );
  return { done, got, ready: f.ready, stop: () => f.stop() };
}

describe('followLog', () => {
  it('sends only lines appended after it started, whole lines only, and survives a rotation', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'qubot-follow-'));
    dirs.push(dir);
    const path = join(dir, 'instance.log');
    writeFileSync(path, 'old 1\nold 2\n');
    const c = collect(path, 3);
    await c.ready;
    appendFileSync(path, 'new 1\nnew ');
    await expect.poll(() => c.got).toEqual(['new 1']);
    appendFileSync(path, '2\n');
    await expect.poll(() => c.got).toEqual(['new 1', 'new 2']);
    // Rotated: the file starts again, shorter.
    writeFileSync(path, 'after\n');
    expect(await c.done).toEqual(['new 1', 'new 2', 'after']);
    c.stop();
  });
});
