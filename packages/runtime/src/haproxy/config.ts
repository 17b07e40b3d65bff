// The haproxy.cfg of an environment and the map file that holds its traffic split.
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigValidationError, type PoolConfig, parseTarget } from '../router/config.ts';

/** Random buckets a request falls in (`rand(1000)`): the split's resolution is 0.1 %. */
export const BUCKETS = 1000;
export const FRONTEND = 'public';
/** Where requests go while no pool has weight; `_` cannot appear in a pool name. */
export const NO_POOL = 'no_pool';
/**
 * The route map's one key. Its value is the backend of the one pool that has all the weight, or
 * `SPLIT` while several pools share it (or none has any): then the split map picks per request.
 */
export const ROUTE_KEY = 'all';
export const SPLIT = 'split';
/** A slot's address while it holds no target (it is in maintenance: never connected to). */
export const PARKED = '127.0.0.1:1';
export const SLOT_PREFIX = 's';

export const backendOf = (pool: string) => `pool_${pool}`;
export const poolOf = (backend: string) => (backend.startsWith('pool_') ? backend.slice(5) : null);

export interface HaproxyFiles {
  dir: string;
  config: string;
  socket: string;
  pid: string;
  map: string;
  /** One line: the pool that takes every request, or `split` (see `ROUTE_KEY`). */
  route: string;
  state: string;
  log: string;
}

/** sun_path holds 108 bytes with its terminator; HAProxy binds a temporary name a few bytes longer. */
export const MAX_SOCKET_PATH = 96;

/**
 * The admin socket of a runtime directory: in it when the path fits a unix socket address,
 * otherwise in a short per-user directory under the system's temporary directory, named by a hash
 * of the runtime directory — the same name in every process, so a worker that adopts HAProxy finds
 * it (a data directory deep in a checkout would otherwise make every HAProxy fail to start).
 */
export function adminSocketOf(dir: string): string {
  const inside = join(dir, 'admin.sock');
  if (Buffer.byteLength(inside) <= MAX_SOCKET_PATH) return inside;
  const hash = createHash('sha256').update(dir).digest('hex').slice(0, 24);
  return join(shortSocketDir(), `${hash}.sock`);
}

/** The directory of admin sockets moved out of long runtime directories (created 0700 by the provider). */
export function shortSocketDir(): string {
  return join(tmpdir(), `qubot-hap-${process.getuid?.() ?? 'u'}`);
}

export function filesOf(dir: string): HaproxyFiles {
  return {
    dir,
    config: join(dir, 'haproxy.cfg'),
    socket: adminSocketOf(dir),
    pid: join(dir, 'haproxy.pid'),
    map: join(dir, 'split.map'),
    route: join(dir, 'route.map'),
    state: join(dir, 'state.json'),
    log: join(dir, 'haproxy.log'),
  };
}

export interface HaproxyConfigOptions {
  files: HaproxyFiles;
  host: string;
  port: number;
  /** Pool names, one backend each. */
  pools: string[];
  /** Server slots per backend. */
  slots: number;
  healthPath: string;
  checkIntervalMs: number;
  connectTimeoutMs: number;
  /** Upstream inactivity timeout (waiting for the response, then between its chunks). */
  serverTimeoutMs: number;
  /** On stop, how long in-flight requests may take before HAProxy closes them. */
  drainTimeoutMs: number;
  /** HAProxy's global connection limit; by default derived by HAProxy from the open-file limit. */
  maxconn?: number;
}

const SAFE_PATH = /^[^\s"'\\#;]+$/;
const HEALTH_PATH = /^\/[A-Za-z0-9._~%/?=&+-]*$/;
const POOL_NAME = /^[a-z][a-z0-9-]{0,31}$/;
const IPV4 = /^\d{1,3}(?:\.\d{1,3}){3}$/;

/** Checks what goes into haproxy.cfg unquoted: a bad value must not become a config line of its own. */
export function checkConfigOptions(o: HaproxyConfigOptions): void {
  if (!SAFE_PATH.test(o.files.dir))
    throw new Error(`haproxy directory "${o.files.dir}" has unsafe characters`);
  if (Buffer.byteLength(o.files.socket) > MAX_SOCKET_PATH) {
    throw new Error(`haproxy admin socket path too long for a unix socket: ${o.files.socket}`);
  }
  if (!HEALTH_PATH.test(o.healthPath)) throw new Error(`health path "${o.healthPath}" is not a plain path`);
  if (!IPV4.test(o.host)) throw new Error(`haproxy listen host "${o.host}" must be an IPv4 address`);
  if (o.pools.length === 0 || o.pools.some((p) => !POOL_NAME.test(p))) {
    throw new Error(`pool names must match [a-z][a-z0-9-]{0,31}: ${o.pools.join(', ')}`);
  }
  if (!Number.isInteger(o.slots) || o.slots < 1 || o.slots > 1000) throw new Error('slots: 1 to 1000');
}

/**
 * A routing-table target as HAProxy takes it: an IPv4 address (no resolver is configured, and the
 * control plane's targets are `127.0.0.1:<port>`).
 */
export function targetAddress(target: string): { ip: string; port: number } | null {
  const t = parseTarget(target);
  return t && IPV4.test(t.host) ? { ip: t.host, port: t.port } : null;
}

const ms = (n: number) => `${Math.max(1, Math.round(n))}ms`;

/**
 * The whole configuration. One frontend on the environment's address picks a backend per request
 * from the split map; one backend per pool with `slots` servers, the first ones holding `targets`
 * (so a restart serves the saved table at once) and the rest parked in maintenance by a
 * `server-template`, to be given an address and enabled through the runtime API.
 */
export function renderHaproxyConfig(o: HaproxyConfigOptions, targets: Record<string, string[]>): string {
  checkConfigOptions(o);
  const lines = [
    '# Written by Qubot Deploy (packages/runtime/src/haproxy); changed at run time through admin.sock.',
    'global',
    `  stats socket ${o.files.socket} mode 600 level admin`,
    ...(o.maxconn ? [`  maxconn ${o.maxconn}`] : []),
    `  hard-stop-after ${ms(o.drainTimeoutMs)}`,
    '',
    'defaults',
    '  mode http',
    '  option http-keep-alive',
    '  option forwardfor',
    '  option redispatch 1',
    // A refused connection, or a reused keep-alive connection the upstream closed before answering,
    // is tried again (on another server of the pool where there is one).
    '  retries 2',
    '  retry-on conn-failure empty-response',
    '  http-reuse safe',
    `  timeout connect ${ms(o.connectTimeoutMs)}`,
    // Clients close idle keep-alive connections first (they use 4-5 s): HAProxy closing one a
    // client is reusing at that moment would fail that request.
    '  timeout client 65s',
    '  timeout http-keep-alive 65s',
    '  timeout http-request 10s',
    `  timeout server ${ms(o.serverTimeoutMs)}`,
    '  timeout queue 10s',
    `  timeout check ${ms(Math.min(o.checkIntervalMs * 2, 5_000))}`,
    `  default-server check inter ${ms(o.checkIntervalMs)} fastinter ${ms(o.checkIntervalMs / 4)} rise 1 fall 2`,
    '',
    `frontend ${FRONTEND}`,
    `  bind ${o.host}:${o.port}`,
    // An upstream that closed the connection without answering may have processed the request:
    // only idempotent methods are sent again (RFC 9110 §9.2.2); a refused connection always is.
    '  http-request disable-l7-retry unless METH_GET || METH_OPTIONS || METH_TRACE || METH_PUT || METH_DELETE',
    // One pool with all the weight (no rollout under way: nearly always): a static rule guarded by
    // a lookup in the one-line route map, no per-request draw in the split map
    // (bench/README.md, "Router overhead").
    ...o.pools.map(
      (pool) =>
        `  use_backend ${backendOf(pool)} if { str(${ROUTE_KEY}),map(${o.files.route},${SPLIT}) -m str ${backendOf(pool)} }`,
    ),
    // Otherwise one map lookup per request: the split in force is one map version, swapped atomically.
    `  use_backend %[rand(${BUCKETS}),map(${o.files.map},${NO_POOL})]`,
    '',
  ];
  for (const pool of o.pools) {
    const mine = targets[pool] ?? [];
    if (mine.length > o.slots) throw new Error(`pool ${pool}: ${mine.length} targets for ${o.slots} slots`);
    lines.push(
      `backend ${backendOf(pool)}`,
      '  balance roundrobin',
      `  option httpchk GET ${o.healthPath}`,
      '  http-check expect rstatus ^2',
      `  http-response set-header X-Qubot-Pool ${pool}`,
    );
    mine.forEach((target, i) => {
      const a = targetAddress(target);
      if (!a) throw new Error(`pool ${pool}: target ${target} is not an IPv4 address and port`);
      lines.push(`  server ${SLOT_PREFIX}${i + 1} ${target}`);
    });
    if (mine.length < o.slots) {
      const range = mine.length + 1 === o.slots ? `${o.slots}` : `${mine.length + 1}-${o.slots}`;
      lines.push(`  server-template ${SLOT_PREFIX} ${range} ${PARKED} disabled`);
    }
    lines.push('');
  }
  lines.push(
    `backend ${NO_POOL}`,
    `  http-request return status 503 content-type application/json string '{"error":{"code":"NO_UPSTREAM","message":"no pool is receiving traffic"}}' hdr X-Qubot-Pool none`,
    '',
  );
  return lines.join('\n');
}

/**
 * Which pool each of the `BUCKETS` buckets goes to: proportional to the weights (largest remainder),
 * a pool with any weight getting at least one bucket. Contiguous runs: `rand` is uniform.
 */
export function splitBuckets(pools: Pick<PoolConfig, 'name' | 'weight'>[], buckets = BUCKETS): string[] {
  const weighted = pools.filter((p) => p.weight > 0);
  const total = weighted.reduce((s, p) => s + p.weight, 0);
  if (total === 0) return [];
  const shares = weighted.map((p, i) => {
    const exact = (p.weight * buckets) / total;
    return { name: p.name, i, count: Math.floor(exact), rest: exact - Math.floor(exact) };
  });
  let left = buckets - shares.reduce((s, x) => s + x.count, 0);
  for (const s of [...shares].sort((a, b) => b.rest - a.rest || a.i - b.i)) {
    if (left === 0) break;
    s.count++;
    left--;
  }
  for (const s of shares) {
    if (s.count > 0) continue;
    const largest = shares.reduce((a, b) => (b.count > a.count ? b : a));
    largest.count--;
    s.count++;
  }
  return shares.flatMap((s) => Array<string>(s.count).fill(s.name));
}

/** The map's lines, `<bucket> <backend>`: the file at start, the payload of a runtime update. */
export function splitMapLines(pools: Pick<PoolConfig, 'name' | 'weight'>[]): string[] {
  return splitBuckets(pools).map((pool, bucket) => `${bucket} ${backendOf(pool)}`);
}

/**
 * The route map's value for a table: the backend of the only pool with weight, else `split` (no
 * pool, or several sharing the traffic).
 */
export function routeOf(pools: Pick<PoolConfig, 'name' | 'weight'>[]): string {
  const weighted = pools.filter((p) => p.weight > 0);
  return weighted.length === 1 ? backendOf((weighted[0] as { name: string }).name) : SPLIT;
}

/** Throws a `ConfigValidationError` naming the field when the table does not fit this HAProxy. */
export function checkTableFits(pools: PoolConfig[], declared: string[], slots: number): void {
  pools.forEach((p, i) => {
    if (!declared.includes(p.name)) {
      throw new ConfigValidationError(
        `pools[${i}].name`,
        `no HAProxy backend for pool ${p.name} (configured pools: ${declared.join(', ')})`,
      );
    }
    if (new Set(p.targets).size > slots) {
      throw new ConfigValidationError(`pools[${i}].targets`, `at most ${slots} targets per pool`);
    }
    p.targets.forEach((t, j) => {
      if (!targetAddress(t)) {
        throw new ConfigValidationError(`pools[${i}].targets[${j}]`, 'must be an IPv4 address and port');
      }
    });
  });
}
