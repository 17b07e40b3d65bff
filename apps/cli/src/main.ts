import { randomUUID } from 'node:crypto';
import { ApiError } from '@qubot/client';
import {
  GLOBAL_OPTIONS,
  type OptionSpecs,
  parseCommandArgs,
  parseServer,
  splitCommand,
  str,
} from './args-utils.ts';
import { createClient } from './client.ts';
import type { Context, Io } from './command.ts';
import { COMMANDS } from './commands/index.ts';
import { REASON_RULE } from './commands/shared.ts';
import { type Credential, configPath, DEFAULT_APP, DEFAULT_SERVER, loadConfig } from './config.ts';
import { CliError, ExitCode, exitCodeOf, UsageError } from './exit-utils.ts';
import { commandHelp, findCommand, mainHelp, suggest } from './help-utils.ts';
import { Output } from './output.ts';

const ALL_OPTIONS: OptionSpecs = Object.assign({}, GLOBAL_OPTIONS, ...COMMANDS.map((c) => c.options));

/** Runs one invocation and returns its exit code; never throws. */
export async function run(argv: string[], io: Io): Promise<number> {
  const jsonRequested = argv.includes('--json');
  let out = new Output(io.stdout, io.stderr, jsonRequested, io.env);
  try {
    const first = splitCommand(argv, ALL_OPTIONS);
    const words = first.positionals;
    if (words[0] === 'help' || (words.length === 0 && first.values.help === true)) {
      const cmd = findCommand(COMMANDS, words.slice(1));
      if (words.length > 1 && !cmd)
        throw new UsageError(`unknown command "${words.slice(1).join(' ')}"; run qubot help`);
      io.stdout.write(`${cmd ? commandHelp(cmd) : mainHelp(COMMANDS)}\n`);
      return ExitCode.Ok;
    }
    if (words.length === 0) {
      io.stderr.write(`${mainHelp(COMMANDS)}\n`);
      return ExitCode.Usage;
    }
    const cmd = findCommand(COMMANDS, words);
    if (!cmd) {
      const near = suggest(COMMANDS, words);
      throw new UsageError(
        `unknown command "${words.join(' ')}"${near.length > 0 ? `; did you mean: ${near.join(', ')}?` : ''} (run qubot help)`,
      );
    }
    const parsed = parseCommandArgs(argv, cmd.options);
    if (parsed.values.help === true) {
      io.stdout.write(`${commandHelp(cmd)}\n`);
      return ExitCode.Ok;
    }
    out = new Output(io.stdout, io.stderr, parsed.values.json === true, io.env);
    const ctx = await buildContext(cmd.name.length, parsed, io, out);
    return await cmd.run(ctx);
  } catch (err) {
    return report(err, out);
  }
}

async function buildContext(
  words: number,
  parsed: ReturnType<typeof parseCommandArgs>,
  io: Io,
  out: Output,
): Promise<Context> {
  const { env } = io;
  const path = configPath(env);
  const config = await loadConfig(path);
  const flagServer = str(parsed.values, 'server');
  const given = flagServer ?? (env.QUBOT_SERVER || undefined);
  const server = parseServer(
    given ?? config.server ?? DEFAULT_SERVER,
    flagServer !== undefined ? 'server' : 'server (QUBOT_SERVER)',
  );
  const app = str(parsed.values, 'app') ?? (env.QUBOT_APP || DEFAULT_APP);
  if (!/^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/.test(app))
    throw new UsageError(`--app ${JSON.stringify(app)} is not a valid application name`);

  let credential: Credential | null = null;
  let credentialSource: Context['credentialSource'] = null;
  if (env.QUBOT_TOKEN) {
    credential = { kind: 'token', token: env.QUBOT_TOKEN.trim() };
    credentialSource = 'env';
  } else if (config.credentials[server]) {
    credential = config.credentials[server] ?? null;
    credentialSource = 'config';
  }
  const key = str(parsed.values, 'idempotency-key') ?? randomUUID();
  if (!/^[A-Za-z0-9._:-]{1,200}$/.test(key))
    throw new UsageError('--idempotency-key may contain letters, digits and . _ : - (up to 200)');
  const retries = env.QUBOT_RETRIES !== undefined ? Number(env.QUBOT_RETRIES) : undefined;
  return {
    values: parsed.values,
    args: parsed.positionals.slice(words),
    out,
    io,
    server,
    serverGiven: given !== undefined,
    app,
    configPath: path,
    config,
    credential,
    credentialSource,
    idempotencyKey: key,
    client: createClient({
      server,
      credential,
      idempotencyKey: key,
      ...(retries !== undefined && Number.isInteger(retries) && retries >= 0 ? { retries } : {}),
    }),
  };
}

/** stderr gets the message (and request id); with --json, stdout also gets the error as one document. */
function report(err: unknown, out: Output): number {
  const exitCode = exitCodeOf(err);
  const message = err instanceof Error ? err.message : String(err);
  out.error(message);
  if (err instanceof ApiError) {
    if (err.requestId) out.stderr.write(`request id: ${err.requestId}\n`);
    if (exitCode === ExitCode.Auth && err.status === 401)
      out.stderr.write('hint: run qubot login, or set QUBOT_TOKEN to an API token\n');
    if (err.code === 'environment_frozen')
      out.stderr.write('hint: an admin may pass --override-freeze with --reason (audited)\n');
    if (err.status === 400 && (err.details as { field?: unknown } | undefined)?.field === 'body.reason')
      out.stderr.write(`hint: pass --reason "…": ${REASON_RULE}\n`);
  } else if (!(err instanceof CliError) && process.env.QUBOT_DEBUG) {
    out.stderr.write(`${(err as Error)?.stack ?? ''}\n`);
  }
  if (out.json) {
    const error =
      err instanceof ApiError
        ? {
            code: err.code,
            message,
            status: err.status,
            ...(err.details === undefined ? {} : { details: err.details }),
          }
        : { code: exitCode === ExitCode.Usage ? 'usage' : 'error', message };
    out.stdout.write(
      `${JSON.stringify({ error, requestId: err instanceof ApiError ? err.requestId : null, exitCode }, null, 2)}\n`,
    );
  }
  return exitCode;
}

export async function main(): Promise<void> {
  const code = await run(process.argv.slice(2), {
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
    env: process.env,
  });
  process.exitCode = code;
}
