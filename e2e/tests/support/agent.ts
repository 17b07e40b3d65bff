// A real `qubot agent` on this machine (loopback address) for the Hosts page tests, enrolling with
// a one-time token the test created.
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = fileURLToPath(new URL('../../..', import.meta.url));

export function startAgent(opts: {
  server: string;
  token: string;
  dataDir: string;
  name: string;
}): ChildProcess {
  return spawn(
    process.execPath,
    [
      join(REPO, 'apps/cli/bin/qubot.mjs'),
      'agent',
      '--server',
      opts.server,
      '--enrol',
      opts.token,
      '--address',
      '127.0.0.1',
      '--data-dir',
      opts.dataDir,
      '--name',
      opts.name,
    ],
    { cwd: REPO, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root' }, stdio: 'ignore' },
  );
}
