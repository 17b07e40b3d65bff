import { COLORS, PLAIN, type Style } from './format-utils.ts';

export interface Writable {
  write(chunk: string): unknown;
  isTTY?: boolean;
}

/**
 * Where a command's results go. In --json mode stdout carries exactly one JSON document and
 * everything meant for people goes to stderr, so `qubot … --json | jq` always parses.
 */
export class Output {
  readonly style: Style;
  readonly errStyle: Style;

  constructor(
    readonly stdout: Writable,
    readonly stderr: Writable,
    readonly json: boolean,
    env: NodeJS.ProcessEnv = process.env,
  ) {
    const colours = (w: Writable) =>
      env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0' ? true : !env.NO_COLOR && w.isTTY === true;
    this.style = colours(stdout) ? COLORS : PLAIN;
    this.errStyle = colours(stderr) ? COLORS : PLAIN;
  }

  /** The command's result: `human()` on a terminal or in a pipe, `data` as JSON with --json. */
  result(data: unknown, human: () => string): void {
    if (this.json) this.stdout.write(`${JSON.stringify(data, null, 2)}\n`);
    else {
      const text = human();
      if (text) this.stdout.write(`${text}\n`);
    }
  }

  /** Progress and notes for people: stdout normally, stderr in --json mode. */
  info(line: string): void {
    (this.json ? this.stderr : this.stdout).write(`${line}\n`);
  }

  warn(line: string): void {
    this.stderr.write(`${this.errStyle.yellow('warning:')} ${line}\n`);
  }

  error(line: string): void {
    this.stderr.write(`${this.errStyle.red('error:')} ${line}\n`);
  }
}
