export interface PoolConfig {
  /** `blue`, `green`, `canary`, … */
  name: string;
  version: string;
  /** Relative weight, integer 0..1000 (percentages in practice). */
  weight: number;
  /** Upstreams as `host:port`; round-robin within the pool. */
  targets: string[];
}

export interface RouterConfig {
  pools: PoolConfig[];
}

export interface RouterConfigState extends RouterConfig {
  /** Incremented on every accepted PUT /config. */
  revision: number;
  updatedAt: string;
}

export class ConfigValidationError extends Error {
  override name = 'ConfigValidationError';
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
  }
}

const POOL_NAME = /^[a-z][a-z0-9-]{0,31}$/;
const VERSION = /^[A-Za-z0-9][A-Za-z0-9._+-]{0,127}$/;
const HOST = /^(?:\d{1,3}(?:\.\d{1,3}){3}|\[[0-9a-fA-F:]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]{0,252}))$/;

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function onlyKeys(obj: Record<string, unknown>, allowed: string[], where: string) {
  for (const key of Object.keys(obj)) {
    if (!allowed.includes(key)) throw new ConfigValidationError(`${where}.${key}`, 'unknown field');
  }
}

export function parseTarget(target: string): { host: string; port: number } | null {
  const i = target.lastIndexOf(':');
  if (i <= 0) return null;
  const host = target.slice(0, i);
  const port = Number(target.slice(i + 1));
  if (!HOST.test(host) || !Number.isInteger(port) || port < 1 || port > 65535) return null;
  return { host, port };
}

/** Validates an untrusted config body; unknown fields are rejected, the field at fault is named. */
export function validateRouterConfig(body: unknown): RouterConfig {
  if (!isPlainObject(body)) throw new ConfigValidationError('body', 'must be an object');
  onlyKeys(body, ['pools'], 'body');
  const { pools } = body;
  if (!Array.isArray(pools)) throw new ConfigValidationError('pools', 'must be an array');
  if (pools.length > 16) throw new ConfigValidationError('pools', 'at most 16 pools');
  const seen = new Set<string>();
  const out = pools.map((p, i): PoolConfig => {
    const where = `pools[${i}]`;
    if (!isPlainObject(p)) throw new ConfigValidationError(where, 'must be an object');
    onlyKeys(p, ['name', 'version', 'weight', 'targets'], where);
    if (typeof p.name !== 'string' || !POOL_NAME.test(p.name)) {
      throw new ConfigValidationError(`${where}.name`, 'must match [a-z][a-z0-9-]{0,31}');
    }
    if (seen.has(p.name)) throw new ConfigValidationError(`${where}.name`, `duplicate pool ${p.name}`);
    seen.add(p.name);
    if (typeof p.version !== 'string' || !VERSION.test(p.version)) {
      throw new ConfigValidationError(`${where}.version`, 'must be a version label');
    }
    if (typeof p.weight !== 'number' || !Number.isInteger(p.weight) || p.weight < 0 || p.weight > 1000) {
      throw new ConfigValidationError(`${where}.weight`, 'must be an integer between 0 and 1000');
    }
    if (!Array.isArray(p.targets) || p.targets.length > 256) {
      throw new ConfigValidationError(`${where}.targets`, 'must be an array of at most 256 host:port');
    }
    const targets = p.targets.map((t, j) => {
      if (typeof t !== 'string' || !parseTarget(t)) {
        throw new ConfigValidationError(`${where}.targets[${j}]`, 'must be host:port');
      }
      return t;
    });
    if (p.weight > 0 && targets.length === 0) {
      throw new ConfigValidationError(`${where}.targets`, 'a pool with weight needs at least one target');
    }
    return { name: p.name, version: p.version, weight: p.weight, targets };
  });
  return { pools: out };
}
