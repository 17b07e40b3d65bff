import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, expect, it, vi } from 'vitest';
import { type AccessLine, createAccessLogger } from './access-log.ts';

const dir = mkdtempSync(join(tmpdir(), 'qubot-access-log-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const linesIn = (file: string) =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { msg: string; n?: number; level: number });

it('[API] access lines are buffered, then written within flushMs, as pino JSON', async () => {
  const file = join(dir, 'timer.log');
  const access = createAccessLogger({ level: 'info', dest: file, flushMs: 50 });
  try {
    for (let n = 1; n <= 3; n++) access.logger.info({ n }, 'request completed');
    access.logger.debug('below the level');
    // Nothing written yet: three short lines are far below minLength.
    expect(readFileSync(file, 'utf8')).toBe('');
    await vi.waitFor(() => expect(linesIn(file)).toHaveLength(3), { timeout: 5_000, interval: 20 });
    expect(linesIn(file).map((l) => [l.n, l.msg, l.level])).toEqual([
      [1, 'request completed', 30],
      [2, 'request completed', 30],
      [3, 'request completed', 30],
    ]);
  } finally {
    access.close();
  }
});

it('[API] access lines still buffered are written when the process exits', () => {
  const file = join(dir, 'exit.log');
  const module = join(import.meta.dirname, 'access-log.ts');
  // A real process: logs, then exits at once (long before the 10 s timer would flush).
  execFileSync(
    process.execPath,
    [
      '--import',
      'tsx',
      '--input-type=module',
      '-e',
      `const { createAccessLogger } = await import(${JSON.stringify(module)});
       const a = createAccessLogger({ level: 'info', dest: ${JSON.stringify(file)}, flushMs: 10000 });
       for (let n = 1; n <= 5; n++) a.logger.info({ n }, 'request completed');
       process.exit(0);`,
    ],
    { cwd: import.meta.dirname, stdio: 'pipe' },
  );
  expect(linesIn(file).map((l) => l.n)).toEqual([1, 2, 3, 4, 5]);
});

it('[API] an access line is the very JSON pino writes for it, odd characters included', () => {
  const file = join(dir, 'same.log');
  const line: AccessLine = {
    reqId: 'req-1',
    method: 'GET',
    url: '/api/v1/apps/q"one\\x/environments?name=é\u2028&x=</script>',
    statusCode: 404,
    responseTime: 1.25,
    remoteAddress: '::ffff:127.0.0.1',
  };
  const fromPino: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      fromPino.push(JSON.parse(String(chunk)));
      done();
    },
  });
  const base = { pid: process.pid, hostname: 'test-host', component: 'api' };
  pino({ level: 'info', base }, sink).info(line, 'request completed');
  const access = createAccessLogger({
    level: 'info',
    dest: file,
    base: { hostname: 'test-host', component: 'api' },
  });
  access.write(line);
  access.close();
  const [ours] = linesIn(file) as unknown as Record<string, unknown>[];
  const { time: t1, ...expected } = fromPino[0] ?? {};
  const { time: t2, ...actual } = ours ?? {};
  expect(actual).toEqual(expected);
  expect(Object.keys(ours ?? {})).toEqual(Object.keys(fromPino[0] ?? {}));
  expect(typeof t1).toBe('number');
  expect(typeof t2).toBe('number');

  // Below the level: nothing.
  const quiet = createAccessLogger({ level: 'warn', dest: join(dir, 'quiet.log') });
  quiet.write(line);
  quiet.close();
  expect(readFileSync(join(dir, 'quiet.log'), 'utf8')).toBe('');
});
