import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { goneFrom, isOurProcess, waitForExit } from './proc.ts';

describe('goneFrom', () => {
  it('a running program is not gone; one under another program’s name is; after its exit (reaped) it is', async () => {
    const child = spawn('sleep', ['30'], { stdio: 'ignore' });
    const pid = child.pid as number;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    expect(isOurProcess(pid, 'sleep')).toBe(true);
    expect(goneFrom(pid, 'sleep')).toBe(false);
    // The pid taken by another program: not the one asked about.
    expect(goneFrom(pid, 'router-main')).toBe(true);
    child.kill('SIGKILL');
    expect(await waitForExit(pid, 5_000, () => goneFrom(pid, 'sleep'))).toBe(true);
    await exited;
    expect(goneFrom(pid, 'sleep')).toBe(true);
  });
});
