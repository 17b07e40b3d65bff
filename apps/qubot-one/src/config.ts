import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

export interface Faults {
  /** Exit non-zero before listening. */
  failStart: boolean;
  /** `/healthz` answers 503 forever. */
  neverHealthy: boolean;
  /** Fraction (0..1) of requests to `/` answered with 500. */
  errorRate: number;
  /** Extra latency added to every request to `/`. */
  latencyMs: number;
  /** Exit with code 70 this many seconds after start-up; null = never. */
  crashAfterS: number | null;
}

export const NO_FAULTS: Faults = {
  failStart: false,
  neverHealthy: false,
  errorRate: 0,
  latencyMs: 0,
  crashAfterS: null,
};

export interface QubotOneConfig {
  version: string;
  host: string;
  port: number;
  pool: string;
  instanceId: string;
  artifact: string | null;
  faults: Faults;
  shutdownTimeoutMs: number;
}

export const ARTIFACTS_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'artifacts');

const ARTIFACT_REF = /^(?:qubot-one\/)?([a-z0-9][a-z0-9._-]{0,63})$/;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/**
 * Maps `qubot-one/<build>` (or `<build>`) to `artifacts/<build>.json`. The name is matched
 * against a strict pattern rather than normalised, so `..`, slashes and absolute paths never
 * reach the file system.
 */
export function resolveArtifactPath(ref: string, artifactsDir = ARTIFACTS_DIR): string {
  const m = ARTIFACT_REF.exec(ref);
  const name = m?.[1];
  if (!name || name.includes('..')) {
    throw new ConfigError(`invalid artifact reference ${JSON.stringify(ref)}: expected qubot-one/<build>`);
  }
  return join(artifactsDir, `${name}.json`);
}

export function loadArtifactFaults(ref: string, artifactsDir = ARTIFACTS_DIR): Partial<Faults> {
  const path = resolveArtifactPath(ref, artifactsDir);
  let raw: string;
  try {
    raw = readFileSync(path, 'utf8');
  } catch {
    throw new ConfigError(`unknown artifact ${JSON.stringify(ref)}`);
  }
  let manifest: unknown;
  try {
    manifest = JSON.parse(raw);
  } catch {
    throw new ConfigError(`artifact ${JSON.stringify(ref)} is not valid JSON`);
  }
  if (
    typeof manifest !== 'object' ||
    manifest === null ||
    (manifest as { name?: unknown }).name !== 'qubot-one'
  ) {
    throw new ConfigError(`artifact ${JSON.stringify(ref)} is not a qubot-one build manifest`);
  }
  const faults = (manifest as { faults?: unknown }).faults ?? {};
  return parseFaultObject(faults, `artifact ${ref}`);
}

function parseFaultObject(value: unknown, where: string): Partial<Faults> {
  if (typeof value !== 'object' || value === null)
    throw new ConfigError(`${where}: faults must be an object`);
  const v = value as Record<string, unknown>;
  const out: Partial<Faults> = {};
  for (const key of Object.keys(v)) {
    if (!(key in NO_FAULTS)) throw new ConfigError(`${where}: unknown fault ${JSON.stringify(key)}`);
  }
  if (v.failStart !== undefined) out.failStart = asBool(v.failStart, `${where}: failStart`);
  if (v.neverHealthy !== undefined) out.neverHealthy = asBool(v.neverHealthy, `${where}: neverHealthy`);
  if (v.errorRate !== undefined) out.errorRate = asRate(v.errorRate, `${where}: errorRate`);
  if (v.latencyMs !== undefined) out.latencyMs = asNonNegative(v.latencyMs, `${where}: latencyMs`);
  if (v.crashAfterS !== undefined)
    out.crashAfterS = v.crashAfterS === null ? null : asNonNegative(v.crashAfterS, `${where}: crashAfterS`);
  return out;
}

function asBool(v: unknown, where: string): boolean {
  if (typeof v === 'boolean') return v;
  if (v === '1' || v === 'true') return true;
  if (v === '0' || v === 'false' || v === '') return false;
  throw new ConfigError(`${where} must be a boolean`);
}

function asNonNegative(v: unknown, where: string): number {
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isFinite(n) || n < 0) throw new ConfigError(`${where} must be >= 0`);
  return n;
}

function asRate(v: unknown, where: string): number {
  const n = asNonNegative(v, where);
  if (n > 1) throw new ConfigError(`${where} must be between 0 and 1`);
  return n;
}

/** Environment variables override the artifact; an empty variable counts as unset. */
export function faultsFromEnv(env: NodeJS.ProcessEnv): Partial<Faults> {
  const pick = (name: string) => {
    const value = env[name];
    return value === undefined || value === '' ? undefined : value;
  };
  return parseFaultObject(
    Object.fromEntries(
      Object.entries({
        failStart: pick('QUBOT_FAULT_FAIL_START'),
        neverHealthy: pick('QUBOT_FAULT_NEVER_HEALTHY'),
        errorRate: pick('QUBOT_FAULT_ERROR_RATE'),
        latencyMs: pick('QUBOT_FAULT_LATENCY_MS'),
        crashAfterS: pick('QUBOT_FAULT_CRASH_AFTER_S'),
      }).filter(([, value]) => value !== undefined),
    ),
    'environment',
  );
}

const SAFE_LABEL = /^[A-Za-z0-9][A-Za-z0-9._+-]{0,127}$/;

/** CLI flags win over environment variables, which win over defaults. */
export function loadConfig(
  argv: string[],
  env: NodeJS.ProcessEnv,
  artifactsDir = ARTIFACTS_DIR,
): QubotOneConfig {
  let values: Record<string, string | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        artifact: { type: 'string' },
        port: { type: 'string' },
        host: { type: 'string' },
        version: { type: 'string' },
        pool: { type: 'string' },
        'instance-id': { type: 'string' },
      },
      strict: true,
      allowPositionals: false,
    }) as { values: Record<string, string | undefined> });
  } catch (err) {
    throw new ConfigError((err as Error).message);
  }

  const version = values.version ?? env.QUBOT_VERSION ?? '0.0.0-dev';
  const pool = values.pool ?? env.QUBOT_POOL ?? 'default';
  const instanceId = values['instance-id'] ?? env.QUBOT_INSTANCE_ID ?? `qubot-one-${process.pid}`;
  for (const [name, value] of [
    ['version', version],
    ['pool', pool],
    ['instance id', instanceId],
  ] as const) {
    if (!SAFE_LABEL.test(value)) throw new ConfigError(`invalid ${name} ${JSON.stringify(value)}`);
  }
  const portRaw = values.port ?? env.PORT ?? '8080';
  const port = Number(portRaw);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ConfigError(`invalid port ${portRaw}`);
  const artifact = values.artifact ?? env.QUBOT_ARTIFACT ?? null;
  const fromArtifact = artifact ? loadArtifactFaults(artifact, artifactsDir) : {};
  const shutdownRaw = env.QUBOT_SHUTDOWN_TIMEOUT_MS;
  return {
    version,
    host: values.host ?? env.HOST ?? '127.0.0.1',
    port,
    pool,
    instanceId,
    artifact,
    faults: { ...NO_FAULTS, ...fromArtifact, ...faultsFromEnv(env) },
    shutdownTimeoutMs: shutdownRaw ? asNonNegative(shutdownRaw, 'QUBOT_SHUTDOWN_TIMEOUT_MS') : 10_000,
  };
}
