import type { OptionSpecs, OptionValues } from './args-utils.ts';
import type { Client } from './client.ts';
import type { CliConfig, Credential } from './config.ts';
import type { Output } from './output.ts';

export interface Io {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  stdin: NodeJS.ReadableStream & { isTTY?: boolean; setRawMode?: (mode: boolean) => unknown };
  env: NodeJS.ProcessEnv;
}

export interface Context {
  values: OptionValues;
  /** Arguments after the command words. */
  args: string[];
  out: Output;
  io: Io;
  server: string;
  /** True when the server came from --server or QUBOT_SERVER rather than the config file or the default. */
  serverGiven: boolean;
  app: string;
  configPath: string;
  config: CliConfig;
  /** QUBOT_TOKEN, else what `qubot login` / `qubot token set` stored for this server. */
  credential: Credential | null;
  credentialSource: 'env' | 'config' | null;
  idempotencyKey: string;
  client: Client;
}

export interface Command {
  /** Command words, e.g. `['release', 'create']`. */
  name: string[];
  summary: string;
  /** Positional part of the synopsis, e.g. `<env>`. */
  args?: string;
  options: OptionSpecs;
  examples: string[];
  /** Extra help text: what it does, defaults, exit codes of note. */
  details?: string;
  run(ctx: Context): Promise<number>;
}
