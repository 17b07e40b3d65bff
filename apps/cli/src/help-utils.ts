import { GLOBAL_OPTIONS, type OptionSpecs } from './args-utils.ts';
import type { Command } from './command.ts';

export const EXIT_CODES: Array<[number, string]> = [
  [0, 'success'],
  [1, 'unexpected error (or --timeout reached)'],
  [2, 'usage error: bad flags or arguments (the message names the flag)'],
  [3, 'not authenticated, or not allowed'],
  [4, 'not found (application, environment, release, deployment)'],
  [5, 'conflict: an active deployment exists, promotion not allowed, version taken…'],
  [6, 'with --wait / --watch: the deployment finished failed, rolled_back or aborted'],
  [7, 'server unavailable or network error'],
];

function optionLines(specs: OptionSpecs): string[] {
  const rows = Object.entries(specs).map(([name, s]) => {
    const flag = `${s.short ? `-${s.short}, ` : '    '}--${name}${s.type === 'string' ? ` ${s.value ?? 'VALUE'}` : ''}`;
    return [flag, s.description + (s.multiple ? ' (repeatable)' : '')] as const;
  });
  const width = Math.max(...rows.map(([f]) => f.length));
  return rows.map(([f, d]) => `  ${f.padEnd(width)}  ${d}`);
}

export function synopsis(cmd: Command): string {
  const required = Object.entries(cmd.options)
    .filter(([, s]) => s.description.includes('(required)'))
    .map(([name, s]) => `--${name} ${s.value ?? 'VALUE'}`);
  return ['qubot', ...cmd.name, ...(cmd.args ? [cmd.args] : []), ...required, '[flags]'].join(' ');
}

export function commandHelp(cmd: Command): string {
  const lines = [`${cmd.summary}.`, '', `Usage: ${synopsis(cmd)}`];
  if (cmd.details) lines.push('', cmd.details);
  if (Object.keys(cmd.options).length > 0) lines.push('', 'Flags:', ...optionLines(cmd.options));
  lines.push('', 'Global flags:', ...optionLines(GLOBAL_OPTIONS));
  lines.push('', 'Examples:', ...cmd.examples.map((e) => `  ${e}`));
  return lines.join('\n');
}

export function mainHelp(commands: Command[]): string {
  const names = commands.map((c) => [...c.name, ...(c.args ? [c.args] : [])].join(' '));
  const width = Math.max(...names.map((n) => n.length));
  return [
    'qubot — the Qubot Deploy command line',
    '',
    'Usage: qubot <command> [arguments] [flags]',
    '',
    'Commands:',
    ...commands.map((c, i) => `  ${(names[i] ?? '').padEnd(width)}  ${c.summary}`),
    `  ${'help [command]'.padEnd(width)}  Show help; also <command> --help`,
    '',
    'Global flags:',
    ...optionLines(GLOBAL_OPTIONS),
    '',
    'Credentials: QUBOT_TOKEN (an API token, for CI), else what qubot login / qubot token set stored',
    'in ~/.config/qubot/config.json for the server.',
    '',
    'Exit codes:',
    ...EXIT_CODES.map(([code, text]) => `  ${code}  ${text}`),
  ].join('\n');
}

/** The command named by the leading words, longest match first (`release create` before `release`). */
export function findCommand(commands: Command[], words: string[]): Command | undefined {
  let best: Command | undefined;
  for (const cmd of commands) {
    if (cmd.name.length > words.length) continue;
    if (cmd.name.every((w, i) => words[i] === w) && (!best || cmd.name.length > best.name.length)) best = cmd;
  }
  return best;
}

/** Closest command names for a typo: same first word, or a shared prefix. */
export function suggest(commands: Command[], words: string[]): string[] {
  const first = words[0] ?? '';
  return commands
    .filter(
      (c) => c.name[0] === first || (first.length >= 3 && c.name.join(' ').startsWith(first.slice(0, 3))),
    )
    .map((c) => c.name.join(' '));
}
