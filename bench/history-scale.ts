// History at scale: the deployment and audit lists, their filters and the CSV export with
// 1,000,000 deployments and 1,000,000 audit entries, seeded through SQL generate_series,
// VACUUM ANALYZE, CHECKPOINT and sync. The API runs in a child process (role all: the
// orchestrator's sweep runs too) on an embedded PostgreSQL in a temporary directory. Each
// endpoint is called back to back by one client (after a warm-up) and its p50/p99 printed;
// with --before the same endpoints are measured again after swapping this change's indexes for
// the ones it replaced (the schema of the previous commit), in the same run, on the same data.
// With --baseline <dir> a second API — the checkout in <dir> (e.g. a worktree of main, installed)
// — serves the same database, and each endpoint is measured on both, alternating in ten blocks,
// so that the machine's own drift falls on both alike.
//
//   node --import tsx bench/history-scale.ts [--deployments 1000000] [--audit 1000000]
//        [--requests 200] [--before] [--explain] [--cpu-prof <dir>] [--baseline <dir>]
//        [--node-flags "<flags for this checkout's API>"]
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import {
  type AuditFilter,
  auditListStatement,
  type DeploymentFilter,
  deploymentListStatement,
  encodeKey,
  type OpenedDatabase,
  openDatabase,
  releaseListStatement,
  removeEmbeddedData,
  seedDemo,
} from '@qubot/db';
import { request } from 'undici';
import { sessionCookie } from './control-plane.ts';
import { percentile } from './load.ts';

const SELF = fileURLToPath(import.meta.url);
const ROOT = join(SELF, '../..');

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}
const flag = (name: string) => process.argv.includes(`--${name}`);

/** Child mode: the API with the orchestrator's worker (sweep included) on the given database. */
async function serve(): Promise<void> {
  const { buildApp } = await import('../apps/api/src/app.ts');
  const { createDatabase } = await import('@qubot/db');
  const db = createDatabase(process.env.QUBOT_BENCH_DB_URL as string, { max: 10 });
  const app = await buildApp({
    db,
    loginRateLimit: { max: 1000, timeWindowMs: 60_000 },
    orchestrator: { worker: true, dataDir: process.env.QUBOT_BENCH_DATA_DIR as string },
    // The database path: the same page asked again would otherwise come from the view cache
    // (QUBOT_VIEW_CACHE, docs/operations.md "Read caching").
    viewCache: false,
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  process.stdout.write(`LISTENING ${(app.server.address() as { port: number }).port}\n`);
  process.on('SIGTERM', () => {
    void app
      .close()
      .then(() => db.close())
      .then(() => process.exit(0));
  });
}

async function startServer(
  url: string,
  dataDir: string,
  root = ROOT,
): Promise<{ child: ChildProcess; port: number }> {
  // --cpu-prof <dir>: a V8 CPU profile of the API process (written when it stops); this checkout's only.
  const prof = process.argv.indexOf('--cpu-prof');
  const profFlags =
    prof > 0 && root === ROOT ? ['--cpu-prof', `--cpu-prof-dir=${process.argv[prof + 1]}`] : [];
  // --node-flags "<flags>": extra node flags for this checkout's API only (e.g. a GC setting, with
  // --baseline the same code without them beside it).
  const extra = process.argv.indexOf('--node-flags');
  if (extra > 0 && root === ROOT)
    profFlags.push(...(process.argv[extra + 1] ?? '').split(' ').filter(Boolean));
  const child = spawn(
    process.execPath,
    [...profFlags, '--import', 'tsx', join(root, 'bench/history-scale.ts'), '--serve'],
    {
      cwd: root,
      env: { ...process.env, QUBOT_BENCH_DB_URL: url, QUBOT_BENCH_DATA_DIR: dataDir },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  for await (const line of lines) {
    const m = /^LISTENING (\d+)$/.exec(line);
    if (m) return { child, port: Number(m[1]) };
  }
  throw new Error('server exited before listening');
}

// ---------------------------------------------------------------------------------------------
// Seeding: three applications × three environments, 300 releases each, then history in SQL.

const APPS = ['qubot-one', 'billing', 'search'];
const ACTIONS = [
  // [action, weight]: mostly deployments and sign-ins, a few rare ones.
  ['deployment.create', 30],
  ['auth.login', 30],
  ['deployment.promote', 8],
  ['deployment.approve', 6],
  ['config.update', 6],
  ['release.create', 8],
  ['deployment.abort', 2],
  ['deployment.rollback', 3],
  ['traffic.switch', 4],
  ['environment.lock', 1],
  ['user.create', 1],
  ['token.revoke', 1],
] as const;

async function seed(db: OpenedDatabase, deployments: number, audits: number) {
  const client = await db.pool.connect();
  try {
    await seedWith(db, (sql, params = []) => client.query(sql, params), deployments, audits);
  } finally {
    client.release();
  }
}

async function seedWith(
  db: OpenedDatabase,
  q: (sql: string, params?: unknown[]) => Promise<{ rows: Record<string, unknown>[] }>,
  deployments: number,
  audits: number,
) {
  await seedDemo(db.prisma, { launcher: 'node apps/qubot-one/src/server.ts {port}' });
  const { seedDemoUsers } = await import('../apps/api/src/services/user-service.ts');
  await seedDemoUsers(db);
  for (const name of APPS.slice(1)) {
    await db.prisma.application.create({
      data: {
        name,
        launcher: 'node apps/qubot-one/src/server.ts {port}',
        environments: {
          create: ['development', 'staging', 'production'].map((n, position) => ({ name: n, position })),
        },
      },
    });
  }
  await q(`INSERT INTO releases (id, application_id, version, artifact, created_by, created_at)
           SELECT gen_random_uuid(), a.id, '2.' || k || '.0', 'builds/' || a.name || '-2.' || k || '.0', 'ci',
                  now() - make_interval(days => 400 - k)
             FROM applications a, generate_series(1, 300) k`);
  await q(`CREATE TEMP TABLE envmap AS
             SELECT (row_number() OVER (ORDER BY a.name, e.position) - 1)::int AS k, e.id AS env_id, a.id AS app_id
               FROM environments e JOIN applications a ON a.id = e.application_id`);
  await q(`CREATE TEMP TABLE relmap AS
             SELECT application_id AS app_id, (row_number() OVER (PARTITION BY application_id ORDER BY created_at) - 1)::int AS k, id AS rel_id
               FROM releases WHERE version LIKE '2.%'`);
  const envCount = Number((await q('SELECT count(*) FROM envmap')).rows[0]?.count);
  // Bulk load: secondary indexes are built once afterwards, and foreign-key triggers skipped
  // (every id below comes from the tables themselves); the indexes are recreated exactly as the
  // migrations made them.
  const { rows: indexes } = await q(`SELECT indexname, indexdef FROM pg_indexes
    WHERE tablename IN ('deployments', 'deployment_steps', 'audit_entries') AND indexname NOT LIKE '%_pkey'`);
  for (const ix of indexes) await q(`DROP INDEX "${ix.indexname}"`);
  await q('SET session_replication_role = replica');
  // One deployment every 90 s, newest last; statuses as a long-lived installation has them.
  let t = Date.now();
  await q(
    `INSERT INTO deployments (id, application_id, environment_id, release_id, kind, strategy, status, options,
                              state, progress, analysis, reason, actor, requests_served, requests_failed,
                              created_at, started_at, finished_at, updated_at)
     SELECT gen_random_uuid(), m.app_id, m.env_id, r.rel_id,
            (ARRAY['deploy','deploy','promote','rollback']::"DeploymentKind"[])[1 + i % 4],
            (ARRAY['blue_green','rolling','canary']::"Strategy"[])[1 + (i / 7) % 3],
            CASE WHEN i % 100 < 85 THEN 'succeeded' WHEN i % 100 < 92 THEN 'failed'
                 WHEN i % 100 < 97 THEN 'rolled_back' ELSE 'aborted' END::"DeploymentStatus",
            '{"autoSwitch":true,"rollbackWindowSeconds":60,"maxSurge":1,"maxUnavailable":0}',
            jsonb_build_object('phase', 'done', 'pc', 9, 'timers', '{}'::jsonb, 'steps', '[]'::jsonb,
                               'input', jsonb_build_object('version', '2.0.0', 'newColor', 'green', 'replicas', 2)),
            '{"percent":100,"batch":2,"batches":2}', '[]', NULL, 'ci',
            (i * 37) % 5000, (i * 7) % 13,
            t.at, t.at + interval '2 seconds', t.at + interval '2 minutes', t.at + interval '2 minutes'
       FROM generate_series(1, $1::int) i
       CROSS JOIN LATERAL (SELECT now() - make_interval(secs => ($1::int - i) * 90) AS at) t
       JOIN envmap m ON m.k = i % ${envCount}
       JOIN relmap r ON r.app_id = m.app_id AND r.k = (i / 3000) % 300`,
    [deployments],
  );
  console.log(
    `  deployments: ${deployments.toLocaleString('en')} rows in ${((Date.now() - t) / 1000).toFixed(0)} s`,
  );
  t = Date.now();
  await q(`INSERT INTO deployment_steps (id, deployment_id, position, name, status, started_at, finished_at)
           SELECT gen_random_uuid(), d.id, p, (ARRAY['Start green','Health check','Switch traffic'])[p + 1],
                  'succeeded', d.started_at, d.finished_at
             FROM deployments d, generate_series(0, 2) p`);
  console.log(
    `  deployment steps: ${(deployments * 3).toLocaleString('en')} rows in ${((Date.now() - t) / 1000).toFixed(0)} s`,
  );
  t = Date.now();
  const weights = ACTIONS.flatMap(([a, w]) => Array.from({ length: w }, () => a));
  await q(
    `INSERT INTO audit_entries (at, actor, role, action, target_type, target_id, target, reason, before, after,
                                request_id, client_ip, user_agent)
     SELECT now() - make_interval(secs => ($1::int - i) * 90),
            (ARRAY['alice','bob','carol','dave','erin','frank','token:ci','admin'])[1 + i % 8],
            'deployer', a.action, split_part(a.action, '.', 1), gen_random_uuid()::text,
            (ARRAY[${APPS.map((a) => `'${a}'`).join(',')}])[1 + (i / 3) % 3] ||
              CASE WHEN a.action LIKE 'release.%' THEN '@2.' || (i % 300) || '.0'
                   ELSE '/' || (ARRAY['development','staging','production'])[1 + i % 3] END,
            CASE WHEN i % 10 = 0 THEN 'weekly release' END,
            '{"status":"running"}', '{"status":"succeeded"}', 'req-' || i, '10.0.0.' || (i % 250),
            'qubot-cli/1.0'
       FROM generate_series(1, $1::int) i
       CROSS JOIN LATERAL (SELECT ($2::text[])[1 + (i::bigint * 7919) % ${weights.length}] AS action) a`,
    [audits, weights],
  );
  console.log(
    `  audit entries: ${audits.toLocaleString('en')} rows in ${((Date.now() - t) / 1000).toFixed(0)} s`,
  );
  await q('RESET session_replication_role');
  t = Date.now();
  for (const ix of indexes) await q(String(ix.indexdef));
  console.log(`  ${indexes.length} indexes built in ${((Date.now() - t) / 1000).toFixed(0)} s`);
  t = Date.now();
  await q('VACUUM ANALYZE');
  console.log(`  VACUUM ANALYZE in ${((Date.now() - t) / 1000).toFixed(0)} s`);
  // The seed's gigabytes written out before measuring: otherwise the kernel's write-back (and
  // PostgreSQL's next checkpoint) of them runs during the first lists and lands in their p99.
  t = Date.now();
  await q('CHECKPOINT');
  execFileSync('sync');
  console.log(`  CHECKPOINT and sync in ${((Date.now() - t) / 1000).toFixed(0)} s`);
  const size = await q(`SELECT pg_size_pretty(pg_total_relation_size('deployments')) AS d,
                               pg_size_pretty(pg_total_relation_size('audit_entries')) AS a`);
  console.log(`  sizes with indexes: deployments ${size.rows[0]?.d}, audit_entries ${size.rows[0]?.a}`);
}

// ---------------------------------------------------------------------------------------------
// The endpoints and the SQL they run.

interface Endpoint {
  name: string;
  path: string;
  /** The statement the list runs, for EXPLAIN: built by the repository itself where it can be. */
  sql?: string | { text: string; values: unknown[] };
}

async function endpoints(db: OpenedDatabase, half: number): Promise<Endpoint[]> {
  const q = async (sql: string) => (await db.pool.query(sql)).rows[0];
  const app = await q(`SELECT id FROM applications WHERE name = 'qubot-one'`);
  // Cursors half-way down: a deep page, the case an OR-only keyset condition turns into a scan.
  const midD = await q(
    `SELECT created_at, id FROM deployments ORDER BY created_at DESC, id DESC OFFSET ${half} LIMIT 1`,
  );
  const midA = await q(`SELECT at, id FROM audit_entries ORDER BY at DESC, id DESC OFFSET ${half} LIMIT 1`);
  const dCursor = midD ? encodeKey(midD.created_at, midD.id) : '';
  const aCursor = midA ? encodeKey(midA.at, String(midA.id)) : '';
  const day = (daysAgo: number) => new Date(Date.now() - daysAgo * 86_400_000).toISOString();
  const list = (filter: DeploymentFilter, cursor?: string) =>
    deploymentListStatement(filter, { cursor, limit: 50 });
  const audit = (filter: AuditFilter) => auditListStatement(filter, 51);
  return [
    { name: 'deployments page 1', path: '/deployments?limit=50', sql: list({}) },
    {
      name: `deployments page at row ${half.toLocaleString('en')}`,
      path: `/deployments?limit=50&cursor=${dCursor}`,
      sql: list({}, dCursor),
    },
    {
      name: 'history page 1 (app + env)',
      path: '/deployments?app=qubot-one&env=production&limit=50',
      sql: list({ applicationName: 'qubot-one', environmentName: 'production' }),
    },
    {
      name: 'by application',
      path: '/deployments?app=qubot-one&limit=50',
      sql: list({ applicationName: 'qubot-one' }),
    },
    {
      name: 'by status (failed, 7 %)',
      path: '/deployments?status=failed&limit=50',
      sql: list({ status: 'failed' }),
    },
    {
      name: 'by status (aborted, 3 %)',
      path: '/deployments?status=aborted&limit=50',
      sql: list({ status: 'aborted' }),
    },
    {
      name: 'by env + status',
      path: '/deployments?app=qubot-one&env=production&status=rolled_back&limit=50',
      sql: list({ applicationName: 'qubot-one', environmentName: 'production', status: 'rolled_back' }),
    },
    {
      name: 'releases page 1 (deployed to, per environment)',
      path: '/apps/qubot-one/releases?limit=50',
      sql: releaseListStatement(app.id, { limit: 50 }),
    },
    { name: 'audit page 1', path: '/audit?limit=50', sql: audit({}) },
    {
      name: `audit page at row ${half.toLocaleString('en')}`,
      path: `/audit?limit=50&cursor=${aCursor}`,
      sql: audit({ cursor: aCursor }),
    },
    {
      name: 'audit by date (one day, a year ago)',
      path: `/audit?limit=50&from=${day(366)}&to=${day(365)}`,
      sql: audit({ from: day(366), to: day(365) }),
    },
    {
      name: 'audit by action (deployment.abort, 2 %)',
      path: '/audit?limit=50&action=deployment.abort',
      sql: audit({ action: 'deployment.abort' }),
    },
    {
      name: 'audit by action prefix (config.)',
      path: '/audit?limit=50&action=config.',
      sql: audit({ action: 'config.' }),
    },
    {
      name: 'audit by actor',
      path: '/audit?limit=50&actor=carol',
      sql: audit({ actor: 'carol' }),
    },
    {
      name: 'audit by app + env',
      path: '/audit?limit=50&app=billing&env=staging',
      sql: audit({ app: 'billing', env: 'staging' }),
    },
    { name: 'audit CSV, one day', path: `/audit.csv?from=${day(31)}&to=${day(30)}` },
    { name: 'audit CSV, one week', path: `/audit.csv?from=${day(37)}&to=${day(30)}` },
  ];
}

/** The orchestrator's background read, before (Prisma's JSON path filter) and after (partial index). */
const UNFINISHED_BEFORE = `SELECT id, environment_id, status FROM deployments
  WHERE status IN ('pending','running','paused') OR (status = 'succeeded' AND state #> '{phase}' = '"cleanup"')`;
const UNFINISHED_AFTER = `SELECT id::text, environment_id::text, status::text FROM deployments
  WHERE (status IN ('pending', 'running', 'paused')
     OR (status = 'succeeded' AND (state ->> 'phase') = 'cleanup'))`;

// The indexes of this change, and those of the previous commit they replaced (--before).
const NEW_INDEXES = [
  'audit_entries_at_id_idx',
  'audit_entries_actor_at_id_idx',
  'audit_entries_action_at_id_idx',
  'audit_entries_target_at_id_idx',
  'deployments_created_at_id_idx',
  'deployments_environment_id_created_at_id_idx',
  'deployments_application_id_created_at_id_idx',
  'deployments_status_created_at_id_idx',
  'deployments_environment_id_finished_at_id_idx',
  'deployments_open_work_idx',
  'deployments_release_id_environment_id_created_at_id_idx',
];
const OLD_INDEXES = [
  'CREATE INDEX "audit_entries_at_id_idx" ON "audit_entries"("at" DESC, "id")',
  'CREATE INDEX "audit_entries_actor_idx" ON "audit_entries"("actor")',
  'CREATE INDEX "audit_entries_action_idx" ON "audit_entries"("action")',
  'CREATE INDEX "deployments_environment_id_created_at_id_idx" ON "deployments"("environment_id", "created_at" DESC, "id")',
  'CREATE INDEX "deployments_application_id_created_at_id_idx" ON "deployments"("application_id", "created_at" DESC, "id")',
  'CREATE INDEX "deployments_status_idx" ON "deployments"("status")',
];

/** An API the endpoints are measured on. */
interface Server {
  label: string;
  base: string;
  cookie: string;
}

/**
 * Each endpoint on each server: warm-up, then `n` requests in ten blocks that alternate between the
 * servers (one server: ten blocks back to back), so that a slower minute of the machine falls on all.
 */
async function measure(servers: Server[], e: Endpoint, n: number) {
  const got = servers.map(() => ({
    times: [] as number[],
    statuses: {} as Record<number, number>,
    bytes: 0,
  }));
  const call = async (s: Server) => {
    const t0 = performance.now();
    const res = await request(`${s.base}/api/v1${e.path}`, {
      headers: { cookie: s.cookie },
      headersTimeout: 30_000,
      bodyTimeout: 30_000,
    });
    const body = await res.body.text();
    return { ms: performance.now() - t0, status: res.statusCode, bytes: body.length };
  };
  // Warm-up: the first requests of the run also compile the shared path (JIT, pool, plans).
  const WARMUP = 10;
  for (const s of servers) for (let i = 0; i < WARMUP; i++) await call(s);
  const BLOCKS = 10;
  for (let b = 0; b < BLOCKS; b++) {
    const size = Math.floor(n / BLOCKS) + (b < n % BLOCKS ? 1 : 0);
    for (const [k, s] of servers.entries()) {
      const r = got[k] as (typeof got)[number];
      for (let i = 0; i < size; i++) {
        const c = await call(s);
        r.times.push(c.ms);
        r.statuses[c.status] = (r.statuses[c.status] ?? 0) + 1;
        r.bytes = c.bytes;
      }
    }
  }
  return got.map((r) => {
    r.times.sort((a, b) => a - b);
    return {
      p50: percentile(r.times, 50),
      p99: percentile(r.times, 99),
      statuses: r.statuses,
      bytes: r.bytes,
      n: r.times.length,
    };
  });
}

/** A statement as text, its parameters written after it. */
const showSql = (sql: NonNullable<Endpoint['sql']>) =>
  typeof sql === 'string'
    ? sql
    : `${sql.text.replace(/\n\s+/g, '\n  ').trim()}\n  -- ${sql.values.map((v, i) => `$${i + 1} = ${JSON.stringify(v)}`).join(', ')}`;

async function explain(db: OpenedDatabase, sql: NonNullable<Endpoint['sql']>): Promise<string> {
  const [text, values] = typeof sql === 'string' ? [sql, []] : [sql.text, sql.values];
  const { rows } = await db.pool.query(`EXPLAIN (ANALYZE, BUFFERS, COSTS OFF, SUMMARY ON) ${text}`, values);
  return rows.map((r: Record<string, string>) => r['QUERY PLAN']).join('\n');
}

async function runAll(label: string, db: OpenedDatabase, servers: Server[], n: number, half: number) {
  const list = await endpoints(db, half);
  const rows: string[] = [];
  const plans: string[] = [];
  for (const e of list) {
    const csv = e.path.startsWith('/audit.csv');
    const results = await measure(servers, e, csv ? Math.max(5, Math.floor(n / 20)) : n);
    for (const [k, r] of results.entries()) {
      const st = Object.entries(r.statuses)
        .map(([s, c]) => `${c}×${s}`)
        .join(' ');
      const who = servers.length > 1 ? `${label}, ${servers[k]?.label}` : label;
      rows.push(
        `| ${who} | ${e.name} | ${r.n} | ${r.p50.toFixed(1)} | ${r.p99.toFixed(1)} | ${st} | ${(r.bytes / 1024).toFixed(1)} kB |`,
      );
      console.log(rows[rows.length - 1]);
    }
    if (e.sql && flag('explain'))
      plans.push(`-- ${label}: ${e.name}\n${showSql(e.sql)}\n${await explain(db, e.sql)}`);
  }
  for (const [name, sql] of [
    ['listUnfinished, previous query', UNFINISHED_BEFORE],
    ['listUnfinished, this query', UNFINISHED_AFTER],
  ] as const) {
    const t0 = performance.now();
    await db.pool.query(sql);
    const ms = performance.now() - t0;
    rows.push(`| ${label} | ${name} (SQL, once) | 1 | ${ms.toFixed(1)} | — | — | — |`);
    console.log(rows[rows.length - 1]);
    if (flag('explain')) plans.push(`-- ${label}: ${name}\n${sql}\n${await explain(db, sql)}`);
  }
  return { rows, plans };
}

async function main() {
  const deployments = arg('deployments', 1_000_000);
  const audits = arg('audit', 1_000_000);
  const n = arg('requests', 200);
  const started = Date.now();
  console.log(
    `history-scale: ${deployments.toLocaleString('en')} deployments, ${audits.toLocaleString('en')} audit entries, ${n} requests per endpoint; load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  const dir = mkdtempSync(join(tmpdir(), 'qubot-history-'));
  const db = await openDatabase({ dataDir: join(dir, 'pg') });
  let server: ChildProcess | null = null;
  let baseline: ChildProcess | null = null;
  try {
    console.log('seeding:');
    await seed(db, deployments, audits);
    const s = await startServer(db.url, join(dir, 'runtime'));
    server = s.child;
    const base = `http://127.0.0.1:${s.port}`;
    const servers: Server[] = [
      { label: 'this checkout', base, cookie: await sessionCookie(base, 'admin', 'demo-admin') },
    ];
    const baselineAt = process.argv.indexOf('--baseline');
    if (baselineAt > 0) {
      const root = process.argv[baselineAt + 1] as string;
      const b = await startServer(db.url, join(dir, 'runtime-baseline'), root);
      baseline = b.child;
      const url = `http://127.0.0.1:${b.port}`;
      const commit = execFileSync('git', ['-C', root, 'rev-parse', '--short', 'HEAD']).toString().trim();
      servers.unshift({
        label: `baseline ${commit}`,
        base: url,
        cookie: await sessionCookie(url, 'admin', 'demo-admin'),
      });
    }
    console.log('\n| schema | endpoint | requests | p50 ms | p99 ms | statuses | body |');
    console.log('| --- | --- | ---: | ---: | ---: | --- | ---: |');
    const after = await runAll('this commit', db, servers, n, Math.floor(deployments / 2));
    let before: { rows: string[]; plans: string[] } | null = null;
    if (flag('before')) {
      const t = Date.now();
      for (const name of NEW_INDEXES) await db.pool.query(`DROP INDEX IF EXISTS "${name}"`);
      for (const sql of OLD_INDEXES) await db.pool.query(sql);
      await db.pool.query('ANALYZE deployments; ANALYZE audit_entries');
      console.log(
        `| — | (indexes swapped for the previous commit's in ${((Date.now() - t) / 1000).toFixed(0)} s) | | | | | |`,
      );
      before = await runAll('previous indexes', db, servers, Math.min(n, 20), Math.floor(deployments / 2));
    }
    if (flag('explain')) {
      console.log('\nEXPLAIN (ANALYZE, BUFFERS) of each list query:\n');
      for (const p of [...after.plans, ...(before?.plans ?? [])]) console.log(`${p}\n`);
    }
    console.log(
      `\nload average after: ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}; whole run ${((Date.now() - started) / 1000).toFixed(0)} s`,
    );
  } finally {
    for (const child of [server, baseline]) {
      if (!child) continue;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
    await db.shutdown();
    removeEmbeddedData(dir);
  }
}

if (process.argv.includes('--serve')) await serve();
else await main();
