import { parseArgs } from 'node:util';
import { UsageError } from './exit-utils.ts';

export interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
  multiple?: boolean;
  /** Placeholder for the value in help, e.g. `URL`. */
  value?: string;
  description: string;
}
export type OptionSpecs = Record<string, OptionSpec>;
export type OptionValues = Record<string, string | boolean | string[] | undefined>;

/** Flags every command accepts. */
export const GLOBAL_OPTIONS: OptionSpecs = {
  server: {
    type: 'string',
    value: 'URL',
    description: 'API server (env QUBOT_SERVER; default http://127.0.0.1:8080)',
  },
  app: { type: 'string', value: 'NAME', description: 'Application (env QUBOT_APP; default qubot-one)' },
  json: { type: 'boolean', description: 'Machine-readable output: one JSON document on stdout' },
  'idempotency-key': {
    type: 'string',
    value: 'KEY',
    description: 'Idempotency-Key for POST requests (default: one per invocation, reused on retry)',
  },
  help: { type: 'boolean', short: 'h', description: 'Show help for the command' },
};

export interface ParsedArgs {
  values: OptionValues;
  positionals: string[];
}

/** Turns node:util parseArgs errors into a usage error that names the flag. */
function usageFromParseError(err: unknown): never {
  const e = err as { code?: string; message?: string };
  if (typeof e?.code === 'string' && e.code.startsWith('ERR_PARSE_ARGS')) {
    // Node's messages already name the flag; drop its hint about `--` which confuses more than it helps.
    const msg = (e.message ?? 'invalid arguments').split('. To specify')[0]?.replace(/\.$/, '') ?? '';
    throw new UsageError(msg);
  }
  throw err;
}

/**
 * First pass: find the command words without knowing the command yet. Value-taking flags
 * of every command are declared so that `--server URL deploy` does not take `URL` as a word.
 */
export function splitCommand(argv: string[], allOptions: OptionSpecs): ParsedArgs {
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      options: toNodeOptions(allOptions),
      allowPositionals: true,
      strict: false,
    });
    return { values: values as OptionValues, positionals };
  } catch (err) {
    return usageFromParseError(err);
  }
}

/** Second pass: strict parsing against the command's own flags plus the global ones. */
export function parseCommandArgs(argv: string[], options: OptionSpecs): ParsedArgs {
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      options: toNodeOptions({ ...GLOBAL_OPTIONS, ...options }),
      allowPositionals: true,
      strict: true,
    });
    return { values: values as OptionValues, positionals };
  } catch (err) {
    return usageFromParseError(err);
  }
}

function toNodeOptions(specs: OptionSpecs) {
  const out: Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }> = {};
  for (const [name, s] of Object.entries(specs)) {
    out[name] = {
      type: s.type,
      ...(s.short ? { short: s.short } : {}),
      ...(s.multiple ? { multiple: true } : {}),
    };
  }
  return out;
}

export function str(values: OptionValues, name: string): string | undefined {
  const v = values[name];
  if (Array.isArray(v)) return v[v.length - 1];
  return typeof v === 'string' ? v : undefined;
}

export function list(values: OptionValues, name: string): string[] {
  const v = values[name];
  if (Array.isArray(v)) return v;
  return typeof v === 'string' ? [v] : [];
}

export function required(values: OptionValues, name: string): string {
  const v = str(values, name);
  if (v === undefined || v === '') throw new UsageError(`missing required flag --${name}`);
  return v;
}

export const STRATEGIES = ['blue-green', 'rolling', 'canary'] as const;
export type Strategy = (typeof STRATEGIES)[number];

export function parseStrategy(value: string, flag?: string): Strategy;
export function parseStrategy(value: string | undefined, flag?: string): Strategy | undefined;
export function parseStrategy(value: string | undefined, flag = 'strategy'): Strategy | undefined {
  if (value === undefined) return undefined;
  if ((STRATEGIES as readonly string[]).includes(value)) return value as Strategy;
  throw new UsageError(`--${flag} must be one of ${STRATEGIES.join(', ')} (got ${JSON.stringify(value)})`);
}

/** `key=value`: the value is JSON when it parses as JSON (numbers, booleans, arrays), else a string. */
export function parseOptionPairs(pairs: string[], flag = 'option'): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    const key = eq > 0 ? pair.slice(0, eq).trim() : '';
    if (!key) throw new UsageError(`--${flag} expects key=value (got ${JSON.stringify(pair)})`);
    const raw = pair.slice(eq + 1);
    let value: unknown = raw;
    try {
      value = raw === '' ? '' : JSON.parse(raw);
    } catch {
      value = raw;
    }
    setPath(out, key, value, flag);
  }
  return out;
}

/** `analysis.maxErrorRate=0.05` builds nested objects, so any strategy option can be given. */
function setPath(target: Record<string, unknown>, key: string, value: unknown, flag: string) {
  const parts = key.split('.');
  let node = target;
  for (const [i, part] of parts.entries()) {
    if (!part) throw new UsageError(`--${flag} has an empty key segment in ${JSON.stringify(key)}`);
    if (part === '__proto__' || part === 'constructor' || part === 'prototype')
      throw new UsageError(`--${flag} key ${JSON.stringify(key)} is not allowed`);
    if (i === parts.length - 1) {
      node[part] = value;
      return;
    }
    const next = node[part];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) node[part] = {};
    node = node[part] as Record<string, unknown>;
  }
}

export type Pool = 'blue' | 'green';
const POOLS: readonly string[] = ['blue', 'green'];

export function parseColor(value: string, flag = 'color'): Pool {
  if (POOLS.includes(value)) return value as Pool;
  throw new UsageError(`--${flag} must be blue or green (got ${JSON.stringify(value)})`);
}

/** `blue=90,green=10` → `[{ pool: 'blue', weight: 90 }, { pool: 'green', weight: 10 }]`; weights add up to 100. */
export function parseWeights(value: string, flag = 'weights'): Array<{ pool: Pool; weight: number }> {
  const seen = new Set<string>();
  const out: Array<{ pool: Pool; weight: number }> = [];
  for (const part of value.split(',')) {
    const m = /^\s*([a-z]+)\s*=\s*(\d+)\s*$/.exec(part);
    if (!m)
      throw new UsageError(
        `--${flag} expects pool=weight pairs with whole-number weights, like blue=90,green=10 (got ${JSON.stringify(part)})`,
      );
    const pool = m[1] as string;
    const weight = Number(m[2]);
    if (!POOLS.includes(pool))
      throw new UsageError(`--${flag}: unknown pool ${JSON.stringify(pool)} (use blue or green)`);
    if (seen.has(pool)) throw new UsageError(`--${flag}: pool ${pool} is given twice`);
    if (weight > 100) throw new UsageError(`--${flag}: weight of ${pool} must be between 0 and 100`);
    seen.add(pool);
    out.push({ pool: pool as Pool, weight });
  }
  const total = out.reduce((sum, w) => sum + w.weight, 0);
  if (total !== 100) throw new UsageError(`--${flag} must add up to 100 (got ${total})`);
  return out;
}

/** Environment and application names as the API accepts them, checked before any request. */
export function parseName(value: string | undefined, what: string): string {
  if (value === undefined || value === '') throw new UsageError(`missing ${what}`);
  if (!/^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/.test(value) || value.length > 63)
    throw new UsageError(
      `${what} ${JSON.stringify(value)} is not a valid name (lower-case letters, digits, dashes)`,
    );
  return value;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function parseId(value: string | undefined, what = 'deployment id'): string {
  if (value === undefined || value === '') throw new UsageError(`missing ${what}`);
  if (!UUID.test(value)) throw new UsageError(`${what} ${JSON.stringify(value)} is not a valid id (a UUID)`);
  return value.toLowerCase();
}

export function parsePositiveInt(value: string | undefined, flag: string, max = Number.MAX_SAFE_INTEGER) {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > max)
    throw new UsageError(
      `--${flag} must be a whole number between 1 and ${max} (got ${JSON.stringify(value)})`,
    );
  return Number(value);
}

export function parseServer(value: string, flag = 'server'): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`--${flag} must be a URL like http://127.0.0.1:8080 (got ${JSON.stringify(value)})`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new UsageError(`--${flag} must be an http:// or https:// URL (got ${JSON.stringify(value)})`);
  return url.toString().replace(/\/+$/, '');
}
