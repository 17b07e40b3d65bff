// Tests: runs bin/qubot.mjs as a child process from another directory, as CI would, with only
// the environment given (no inherited credentials). Children still running when a test file ends
// are stopped with `killAll()`, never left behind.
import { type ChildProcess, spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../bin/qubot.mjs', import.meta.url));

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function createCliRunner(base: () => Record<string, string | undefined>) {
  const children = new Set<ChildProcess>();
  function run(
    args: string[],
    opts: {
      env?: Record<string, string | undefined>;
      stdin?: string;
      onStdout?: (text: string) => void;
    } = {},
  ): Promise<CliResult> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [BIN, ...args], {
        cwd: tmpdir(),
        env: { PATH: process.env.PATH, QUBOT_RETRIES: '0', NO_COLOR: '1', ...base(), ...opts.env },
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      children.add(child);
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => {
        stdout += d.toString();
        opts.onStdout?.(stdout);
      });
      child.stderr.on('data', (d: Buffer) => {
        stderr += d.toString();
      });
      child.on('error', reject);
      child.on('close', (code) => {
        children.delete(child);
        resolve({ code, stdout, stderr });
      });
      child.stdin.end(opts.stdin ?? '');
    });
  }
  return {
    run,
    children,
    killAll() {
      for (const c of children) c.kill('SIGKILL');
    },
  };
}
