// A transaction's one pg connection runs one statement at a time (issue 10). pg 8 queues a
// statement sent while another runs and warns "Calling client.query() when the client is already
// executing a query is deprecated" (once per process); pg 9 throws instead. This file listens for
// that warning while it drives the paths that sent such statements, so it fails if one comes back.
// The warning is emitted once per process: the control that provokes it on purpose, to show the
// path really fans out without the fix, runs in a child process and reads the child's stderr.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { PrismaPg } from '@prisma/adapter-pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../../../test/db.ts';
import { type Db, readAll } from './client.ts';
import { PrismaClient } from './generated/client.ts';
import { createBackupRepo } from './repos/backup-repo.ts';
import { createDeploymentRepo } from './repos/deployment-repo.ts';
import { createEnvironmentRepo } from './repos/environment-repo.ts';
import { createMetricRepo } from './repos/metric-repo.ts';
import { seedDemo } from './seed.ts';

/** Runs scripts/transaction-queries-child.ts; its stdout (JSON) and stderr. */
async function child(mode: 'bare' | 'ours'): Promise<{ stdout: unknown; stderr: string }> {
  const script = fileURLToPath(new URL('../scripts/transaction-queries-child.ts', import.meta.url));
  const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', script, mode, db.url, appId], {
    cwd: fileURLToPath(new URL('..', import.meta.url)),
    timeout: 60_000,
  });
  return { stdout: JSON.parse(stdout), stderr };
}

const run = promisify(execFile);
/**
 * `client` with every operation (model method, raw query) counted while it runs: `most` is the
 * largest number in flight at once.
 */
function watched<T extends object>(client: T, inFlight: { now: number; most: number }): T {
  const wrap = (target: object): object =>
    new Proxy(target, {
      get(t, key) {
        const v: unknown = Reflect.get(t, key);
        if (typeof v === 'function')
          return (...args: unknown[]) => {
            // Prisma's operations start when awaited: count from then until they settle.
            const op = (v as (...a: unknown[]) => PromiseLike<unknown>).apply(t, args);
            return {
              // biome-ignore lint/suspicious/noThenProperty: a thenable standing in for Prisma's lazy promise
              then(ok: (v: unknown) => unknown, fail: (e: unknown) => unknown) {
                inFlight.now++;
                inFlight.most = Math.max(inFlight.most, inFlight.now);
                return Promise.resolve(op)
                  .finally(() => inFlight.now--)
                  .then(ok, fail);
              },
            };
          };
        return v && typeof v === 'object' ? wrap(v) : v;
      },
    });
  return wrap(client) as T;
}

const QUEUE_WARNING = /Calling client\.query\(\) when the client is already executing a query/;
const warnings: Error[] = [];
const onWarning = (w: Error) => warnings.push(w);
process.on('warning', onWarning);
const queueWarnings = () => warnings.filter((w) => QUEUE_WARNING.test(w.message));

let db: Awaited<ReturnType<typeof createTestDatabase>>;
/** Prisma on the same pool through its own pg adapter, without our one-statement-at-a-time turn. */
let bare: PrismaClient;
let appId: string;
let ids: { dev: string; staging: string; release: string };

beforeAll(async () => {
  db = await createTestDatabase();
  bare = new PrismaClient({ adapter: new PrismaPg(db.pool) });
  await seedDemo(db.prisma, { launcher: 'node qubot-one.js --port {port}' });
  const app = await db.prisma.application.findUniqueOrThrow({ where: { name: 'qubot-one' } });
  appId = app.id;
  const env = (name: string) =>
    db.prisma.environment.findUniqueOrThrow({
      where: { applicationId_name: { applicationId: app.id, name } },
    });
  const release = await db.prisma.release.findFirstOrThrow({ where: { applicationId: app.id } });
  ids = { dev: (await env('development')).id, staging: (await env('staging')).id, release: release.id };
});
afterAll(async () => {
  process.off('warning', onWarning);
  await bare?.$disconnect();
  await db?.drop();
});

describe('[pg] one statement at a time on a transaction’s connection', () => {
  it('Prisma’s include of several relations inside $transaction (the environment view of every environment.updated) queues nothing', async () => {
    const environments = createEnvironmentRepo(db.prisma);
    const outside = await environments.findView(appId, 'staging');
    const inside = await db.prisma.$transaction(async (tx) => {
      // Both shapes the services read inside their transactions, and several at once.
      const [one, all] = await Promise.all([
        environments.findView(appId, 'staging', tx),
        environments.listForApplication(appId, tx),
      ]);
      return { one, all };
    });
    expect(inside.one).toEqual(outside);
    expect(inside.all.map((e) => e.name)).toEqual(['development', 'staging', 'production']);
    expect(queueWarnings()).toEqual([]);
  });

  it('a failed statement does not stall the ones queued behind it, and the transaction rolls back', async () => {
    const environments = createEnvironmentRepo(db.prisma);
    const tried = db.prisma.$transaction(async (tx) => {
      await tx.environment.update({ where: { id: ids.dev }, data: { replicas: 7 } });
      await Promise.all([
        tx.$queryRawUnsafe('SELECT 1 / 0'),
        environments.findView(appId, 'development', tx),
        environments.findView(appId, 'staging', tx),
      ]);
    });
    await expect(tried).rejects.toThrow(/division by zero/);
    expect((await environments.get(ids.dev)).replicas).toBe(2);
    // ROLLBACK, queued behind the failed statement, was sent: no connection is left in a transaction.
    const { rows } = await db.probe.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_stat_activity
       WHERE datname = current_database() AND state LIKE 'idle in transaction%'`,
    );
    expect(rows[0]?.n).toBe(0);
    expect(queueWarnings()).toEqual([]);
  });

  it('repositories with several independent reads run them one after another in a transaction and at once on the pool (promotionFacts, backup status, metrics snapshot and targets)', async () => {
    const read = async (client: Db, root: Db) => ({
      facts: await createDeploymentRepo(root).promotionFacts(ids.release, ids.staging, ids.dev, client),
      backups: await createBackupRepo(root).status(client),
      snapshot: await createMetricRepo(root).snapshot(30, client),
      targets: await createMetricRepo(root).targets(client),
    });
    const pool = { now: 0, most: 0 };
    const onPool = watched(db.prisma, pool);
    const outside = await read(onPool, onPool);
    expect(pool.most).toBeGreaterThan(1);
    const tx = { now: 0, most: 0 };
    const inside = await db.prisma.$transaction((t) => read(watched(t, tx), db.prisma));
    expect(tx.most).toBe(1);
    expect(inside).toEqual(outside);
    expect(inside.snapshot.environments.map((e) => e.environment)).toEqual([
      'development',
      'staging',
      'production',
    ]);
    expect(queueWarnings()).toEqual([]);
  });

  it('readAll runs its reads at once outside a transaction and one after another inside one', async () => {
    const order: string[] = [];
    const step = (name: string, client: Db) => async () => {
      order.push(`${name} start`);
      const rows = await client.$queryRawUnsafe<{ n: number }[]>(`SELECT ${name.length}::int AS n`);
      order.push(`${name} end`);
      return rows[0]?.n;
    };
    expect(await readAll(bare, bare, [step('a', bare), step('bb', bare)])).toEqual([1, 2]);
    expect(order.slice(0, 2)).toEqual(['a start', 'bb start']);
    order.length = 0;
    await bare.$transaction(async (tx) => {
      expect(await readAll(tx, bare, [step('a', tx), step('bb', tx)])).toEqual([1, 2]);
    });
    expect(order).toEqual(['a start', 'a end', 'bb start', 'bb end']);
  });

  it('control, in a process of its own: the same environment view on Prisma’s bare adapter inside $transaction queues and warns; through createDatabase it does not', async () => {
    const bareRun = await child('bare');
    expect(bareRun.stdout).toEqual({ environment: 'staging' });
    expect(bareRun.stderr).toMatch(QUEUE_WARNING);
    const ours = await child('ours');
    expect(ours.stdout).toEqual({ environment: 'staging' });
    expect(ours.stderr).not.toMatch(QUEUE_WARNING);
  });
});
