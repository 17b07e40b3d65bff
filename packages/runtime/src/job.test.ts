// Jobs are real child processes started from a job launcher template, never through a shell.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startJob } from './job.ts';
import { LauncherError, renderJobLauncher } from './launcher.ts';

const dir = mkdtempSync(join(tmpdir(), 'qubot-job-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const script = (body: string) => ['-e', body];
const base = { version: '1.0.0', artifact: 'a/b', environment: 'staging', timeoutMs: 10_000 };

describe('job launcher', () => {
  it('fills each placeholder as one argument: a job name cannot become a command', () => {
    const r = renderJobLauncher('node job.js {job} --env {environment}', {
      job: 'x; touch /tmp/pwned',
      version: '1',
      artifact: 'a',
      environment: '$(id)',
    });
    expect(r.args).toEqual(['job.js', 'x; touch /tmp/pwned', '--env', '$(id)']);
    expect(() =>
      renderJobLauncher('node job.js {port}', { job: 'j', version: '1', artifact: 'a', environment: 'e' }),
    ).toThrow(LauncherError);
  });
});

describe('startJob', () => {
  it('runs the program, captures its output and reports its exit code', async () => {
    const logPath = join(dir, 'ok.log');
    const job = await startJob({
      ...base,
      job: 'migrate',
      launcher: {
        command: `node ${script('console.log("hello", process.env.GREETING); process.exit(3)')
          .map((a) => `'${a}'`)
          .join(' ')}`,
      },
      env: { GREETING: 'from-config' },
      logPath,
    });
    const r = await job.done;
    expect(r).toMatchObject({ outcome: 'failed', exitCode: 3, message: 'exited 3' });
    expect(readFileSync(logPath, 'utf8')).toContain('hello from-config');
  });

  it('refuses a job name that is not a label, before anything runs', async () => {
    const marker = join(dir, 'pwned');
    await expect(
      startJob({
        ...base,
        job: `x; touch ${marker}`,
        launcher: { command: 'node -e 0 {job}' },
        logPath: join(dir, 'bad.log'),
      }),
    ).rejects.toThrow(LauncherError);
    expect(existsSync(marker)).toBe(false);
  });

  it('stops a job at its timeout (its whole process group) and says so', async () => {
    const job = await startJob({
      ...base,
      job: 'sleep',
      timeoutMs: 300,
      launcher: { command: `node -e 'setInterval(() => {}, 1000)'` },
      logPath: join(dir, 'slow.log'),
    });
    const r = await job.done;
    expect(r.outcome).toBe('timed_out');
    expect(r.message).toContain('did not finish within');
    expect(() => process.kill(job.pid, 0)).toThrow();
  });
});
