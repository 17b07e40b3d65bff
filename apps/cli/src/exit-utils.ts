import { ApiError } from '@qubot/client';

/**
 * Exit codes a CI pipeline can act on (docs/cli.md). They are part of the CLI's contract:
 * never renumber them.
 */
export const ExitCode = {
  Ok: 0,
  Error: 1,
  Usage: 2,
  Auth: 3,
  NotFound: 4,
  Conflict: 5,
  DeploymentFailed: 6,
  Unavailable: 7,
  /** `release create|wait --wait ENV`: the release reached ENV and waits there for a person's approval. */
  WaitingForApproval: 8,
  /** Ctrl-C while watching or waiting (128 + SIGINT, as shells report it). */
  Interrupted: 130,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** A failure the CLI reports itself: a message for stderr and the exit code to leave with. */
export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(
    message: string,
    readonly exitCode: ExitCode = ExitCode.Error,
  ) {
    super(message);
  }
}

/** Bad flags or arguments (exit 2); the message names the flag at fault. */
export class UsageError extends CliError {
  constructor(message: string) {
    super(message, ExitCode.Usage);
  }
}

/** The exit code for anything a command threw: its own, or the HTTP answer's (@qubot/client's ApiError). */
export function exitCodeOf(err: unknown): ExitCode {
  if (err instanceof CliError) return err.exitCode;
  if (err instanceof ApiError) return exitCodeForHttp(err.status, err.code);
  return ExitCode.Error;
}

/** Maps an HTTP error status (and the envelope's code) to the CLI's exit code. */
export function exitCodeForHttp(status: number, code?: string): ExitCode {
  if (code === 'unauthenticated' || code === 'forbidden') return ExitCode.Auth;
  // A freeze window refusing a new deployment is a conflict with the environment's state (409).
  if (code === 'conflict' || code === 'environment_frozen') return ExitCode.Conflict;
  if (code === 'not_found') return ExitCode.NotFound;
  // Status 0: the server could not be reached at all.
  if (code === 'unavailable' || code === 'network_error' || status === 0) return ExitCode.Unavailable;
  if (status === 400 || status === 422) return ExitCode.Usage;
  if (status === 401 || status === 403) return ExitCode.Auth;
  if (status === 404) return ExitCode.NotFound;
  if (status === 409 || status === 423) return ExitCode.Conflict;
  if (status === 502 || status === 503 || status === 504) return ExitCode.Unavailable;
  return ExitCode.Error;
}

/** Status values a deployment never leaves. */
export const TERMINAL_STATUSES = ['succeeded', 'failed', 'rolled_back', 'aborted'] as const;

export function isTerminal(status: string): boolean {
  return (TERMINAL_STATUSES as readonly string[]).includes(status);
}

/** Exit code for a deployment the CLI waited on: 0 when it succeeded, 6 otherwise. */
export function exitCodeForDeployment(status: string): ExitCode {
  return status === 'succeeded' ? ExitCode.Ok : ExitCode.DeploymentFailed;
}
