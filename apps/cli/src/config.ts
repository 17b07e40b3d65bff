import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { CliError, ExitCode } from './exit-utils.ts';

/** A signed-in browser-style session: the cookie plus the CSRF token mutations must echo. */
export interface SessionCredential {
  kind: 'session';
  session: string;
  csrf: string;
  username: string;
}
export interface TokenCredential {
  kind: 'token';
  token: string;
}
export type Credential = SessionCredential | TokenCredential;

export interface CliConfig {
  /** Server used when neither --server nor QUBOT_SERVER is given (set by login / token set). */
  server?: string;
  /** Credentials per server URL, so one file serves several control planes. */
  credentials: Record<string, Credential>;
}

export const DEFAULT_SERVER = 'http://127.0.0.1:8080';
export const DEFAULT_APP = 'qubot-one';

/** `$QUBOT_CONFIG`, else `$XDG_CONFIG_HOME/qubot/config.json`, else `~/.config/qubot/config.json`. */
export function configPath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.QUBOT_CONFIG) return env.QUBOT_CONFIG;
  const base = env.XDG_CONFIG_HOME || join(env.HOME || homedir(), '.config');
  return join(base, 'qubot', 'config.json');
}

export async function loadConfig(path: string): Promise<CliConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { credentials: {} };
    throw new CliError(`cannot read ${path}: ${(err as Error).message}`);
  }
  try {
    const parsed = JSON.parse(text) as Partial<CliConfig>;
    return {
      ...(typeof parsed.server === 'string' ? { server: parsed.server } : {}),
      credentials: typeof parsed.credentials === 'object' && parsed.credentials ? parsed.credentials : {},
    };
  } catch {
    throw new CliError(`${path} is not valid JSON; fix or delete it`, ExitCode.Error);
  }
}

/** Written to a temporary file with mode 600 and renamed, so a crash never leaves a readable half-file. */
export async function saveConfig(path: string, config: CliConfig): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  // The mode option is ignored when the file already exists, and umask may have narrowed it anyway.
  await chmod(tmp, 0o600);
  await rename(tmp, path);
}
