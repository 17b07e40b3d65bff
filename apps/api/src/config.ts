import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { S3Target } from '@qubot/db';
import { type MetricsAccess, parseCidrList } from './plugins/metrics.ts';

export interface Config {
  port: number;
  host: string;
  databaseUrl: string | undefined;
  dataDir: string | undefined;
  role: 'all' | 'api' | 'worker';
  demo: boolean;
  logLevel: string;
  prettyLogs: boolean;
  /** Sign-in attempts per client address per minute (QUBOT_LOGIN_RATE_LIMIT, default 20). */
  loginRateLimit: number;
  /** Database connections at most (QUBOT_DB_POOL_MAX, default 20). */
  dbPoolMax: number;
  /** How long a request waits for a free database connection before "overloaded" (QUBOT_DB_POOL_WAIT_MS, default 5000). */
  dbPoolWaitMs: number;
  /** Who may scrape /metrics: QUBOT_METRICS_TOKEN and QUBOT_METRICS_ALLOW (default loopback). */
  metrics: MetricsAccess;
  /** Open event stream websockets per user or API token, per API process (QUBOT_WS_MAX_PER_USER, default 20). */
  wsMaxPerUser: number;
  /** Serve repeated reads from the in-memory view cache (QUBOT_VIEW_CACHE=on|off, default on). */
  viewCache: boolean;
  /** Backups (docs/backup.md): QUBOT_BACKUP_DIR, QUBOT_BACKUP_KEEP, QUBOT_BACKUP_EVERY_HOURS, QUBOT_RESTORE_DRILL_EVERY_HOURS, QUBOT_RESTORE_DRILL_MAX_AGE_HOURS, QUBOT_BACKUP_S3_*. */
  backups: {
    dir?: string;
    keep: number;
    backupEveryMs: number | null;
    drillEveryMs: number | null;
    drillMaxAgeMs: number;
    /** S3-compatible storage (QUBOT_BACKUP_S3_*); null: none. */
    remote: S3Target | null;
  };
  /**
   * Outgoing webhooks (docs/webhooks.md): QUBOT_PUBLIC_URL (the dashboard's address in links;
   * default the address the server listens on), QUBOT_WEBHOOK_TIMEOUT_SECONDS (default 10),
   * QUBOT_WEBHOOK_MAX_ATTEMPTS (default 8).
   */
  webhooks: { publicUrl?: string; timeoutMs: number; maxAttempts: number };
}

export class ConfigError extends Error {}

/** Settings from the environment and command line (flags win). */
export function loadConfig(argv = process.argv.slice(2), env = process.env): Config {
  const { values } = parseArgs({
    args: argv,
    options: {
      role: { type: 'string' },
      demo: { type: 'boolean' },
      port: { type: 'string' },
      host: { type: 'string' },
    },
    strict: true,
  });
  const port = Number(values.port ?? env.PORT ?? 8080);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new ConfigError(`PORT must be 0-65535, got "${env.PORT}"`);
  const role = (values.role ?? env.QUBOT_ROLE ?? 'all') as Config['role'];
  if (!['all', 'api', 'worker'].includes(role))
    throw new ConfigError(`--role must be api, worker or all, got "${role}"`);
  return {
    port,
    host: values.host ?? env.HOST ?? '127.0.0.1',
    databaseUrl: env.DATABASE_URL || undefined,
    dataDir: env.QUBOT_DATA_DIR || undefined,
    role,
    demo: values.demo ?? env.QUBOT_DEMO === '1',
    logLevel: env.LOG_LEVEL ?? 'info',
    prettyLogs: env.QUBOT_PRETTY_LOGS === '1',
    loginRateLimit: positiveInt('QUBOT_LOGIN_RATE_LIMIT', env.QUBOT_LOGIN_RATE_LIMIT, 20),
    wsMaxPerUser: positiveInt('QUBOT_WS_MAX_PER_USER', env.QUBOT_WS_MAX_PER_USER, 20),
    dbPoolMax: positiveInt('QUBOT_DB_POOL_MAX', env.QUBOT_DB_POOL_MAX, 20),
    dbPoolWaitMs: positiveInt('QUBOT_DB_POOL_WAIT_MS', env.QUBOT_DB_POOL_WAIT_MS, 5000),
    metrics: metricsAccess(env),
    viewCache: onOff('QUBOT_VIEW_CACHE', env.QUBOT_VIEW_CACHE, true),
    backups: {
      ...(env.QUBOT_BACKUP_DIR ? { dir: env.QUBOT_BACKUP_DIR } : {}),
      keep: positiveInt('QUBOT_BACKUP_KEEP', env.QUBOT_BACKUP_KEEP, 7),
      backupEveryMs: everyHours('QUBOT_BACKUP_EVERY_HOURS', env.QUBOT_BACKUP_EVERY_HOURS, 24),
      drillEveryMs: everyHours('QUBOT_RESTORE_DRILL_EVERY_HOURS', env.QUBOT_RESTORE_DRILL_EVERY_HOURS, 24),
      drillMaxAgeMs:
        everyHours('QUBOT_RESTORE_DRILL_MAX_AGE_HOURS', env.QUBOT_RESTORE_DRILL_MAX_AGE_HOURS, 48) ??
        48 * 3600_000,
      remote: s3Target(env),
    },
    webhooks: {
      ...(env.QUBOT_PUBLIC_URL ? { publicUrl: publicUrl(env.QUBOT_PUBLIC_URL) } : {}),
      timeoutMs: positiveInt('QUBOT_WEBHOOK_TIMEOUT_SECONDS', env.QUBOT_WEBHOOK_TIMEOUT_SECONDS, 10) * 1000,
      maxAttempts: positiveInt('QUBOT_WEBHOOK_MAX_ATTEMPTS', env.QUBOT_WEBHOOK_MAX_ATTEMPTS, 8),
    },
  };
}

/**
 * S3-compatible backup storage: on when QUBOT_BACKUP_S3_BUCKET is set. The secret comes from
 * QUBOT_BACKUP_S3_SECRET_ACCESS_KEY or the file named by QUBOT_BACKUP_S3_SECRET_ACCESS_KEY_FILE
 * (a mounted secret); it is never printed.
 */
function s3Target(env: NodeJS.ProcessEnv): S3Target | null {
  const bucket = env.QUBOT_BACKUP_S3_BUCKET;
  if (!bucket) return null;
  const need = (name: string) => {
    const v = env[name];
    if (!v) throw new ConfigError(`${name} is required when QUBOT_BACKUP_S3_BUCKET is set`);
    return v;
  };
  const endpoint = need('QUBOT_BACKUP_S3_ENDPOINT');
  try {
    const url = new URL(endpoint);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error();
  } catch {
    throw new ConfigError(`QUBOT_BACKUP_S3_ENDPOINT must be an http(s) URL, got "${endpoint}"`);
  }
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket))
    throw new ConfigError(`QUBOT_BACKUP_S3_BUCKET is not a bucket name: "${bucket}"`);
  let secret = env.QUBOT_BACKUP_S3_SECRET_ACCESS_KEY;
  const file = env.QUBOT_BACKUP_S3_SECRET_ACCESS_KEY_FILE;
  if (!secret && file) {
    try {
      secret = readFileSync(file, 'utf8').trim();
    } catch (err) {
      throw new ConfigError(
        `QUBOT_BACKUP_S3_SECRET_ACCESS_KEY_FILE cannot be read: ${(err as NodeJS.ErrnoException).code}`,
      );
    }
  }
  if (!secret)
    throw new ConfigError(
      'QUBOT_BACKUP_S3_SECRET_ACCESS_KEY or QUBOT_BACKUP_S3_SECRET_ACCESS_KEY_FILE is required when QUBOT_BACKUP_S3_BUCKET is set',
    );
  return {
    endpoint,
    bucket,
    prefix: env.QUBOT_BACKUP_S3_PREFIX ?? 'qubot-backups',
    region: env.QUBOT_BACKUP_S3_REGION || 'us-east-1',
    accessKeyId: need('QUBOT_BACKUP_S3_ACCESS_KEY_ID'),
    secretAccessKey: secret,
  };
}

function publicUrl(raw: string): string {
  try {
    const url = new URL(raw);
    if (url.protocol === 'http:' || url.protocol === 'https:') return url.toString().replace(/\/+$/, '');
  } catch {}
  throw new ConfigError(`QUBOT_PUBLIC_URL must be an http(s) URL, got "${raw}"`);
}

function onOff(name: string, raw: string | undefined, fallback: boolean): boolean {
  if (raw === undefined || raw === '') return fallback;
  if (raw === 'on') return true;
  if (raw === 'off') return false;
  throw new ConfigError(`${name} must be on or off, got "${raw}"`);
}

/** Hours (fractions allowed) → ms; 0 or "off" → null (the schedule is off). */
function everyHours(name: string, raw: string | undefined, fallback: number): number | null {
  if (raw === undefined || raw === '') return fallback * 3600_000;
  if (raw === 'off' || raw === '0') return null;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0)
    throw new ConfigError(`${name} must be a positive number of hours or off, got "${raw}"`);
  return Math.round(n * 3600_000);
}

function positiveInt(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1)
    throw new ConfigError(`${name} must be a positive integer, got "${raw}"`);
  return n;
}

function metricsAccess(env: NodeJS.ProcessEnv): MetricsAccess {
  const token = env.QUBOT_METRICS_TOKEN || undefined;
  if (token !== undefined && token.length < 16)
    throw new ConfigError('QUBOT_METRICS_TOKEN must be at least 16 characters');
  const raw = env.QUBOT_METRICS_ALLOW;
  if (raw === undefined) return { token };
  try {
    // Set but empty: no address is let in without the token.
    return { token, allow: parseCidrList(raw) };
  } catch (err) {
    throw new ConfigError(`QUBOT_METRICS_ALLOW: ${(err as Error).message}`);
  }
}
