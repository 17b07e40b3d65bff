// The delivery queue across processes (docs/webhooks.md "Delivery"): several workers claim one
// backlog and each delivery is sent exactly once; a worker process SIGKILLed mid-delivery loses
// nothing — another worker takes the delivery over when its lease runs out, delivers it, and the
// log records the take-over.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CreatedWebhook } from '@qubot/api-contract';
import { createDatabase, createWebhookRepo, type Database } from '@qubot/db';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp } from '../../../../test/app.ts';
import { type Receiver, startReceiver } from '../../../../test/webhook-receiver.ts';
import { REPO_ROOT } from '../demo.ts';
import { createSecretBox } from '../lib/secret-box.ts';
import { createWebhookWorker, type WebhookWorker } from './webhook-worker.ts';

type T = Awaited<ReturnType<typeof buildTestApp>>;
let t: T;
let rx: Receiver;
const key = randomBytes(32);
const HOOKS = '/api/v1/apps/qubot-one/webhooks';
const dataDir = mkdtempSync(join(tmpdir(), 'qubot-webhook-worker-'));
const extraDbs: Database[] = [];
const workers: WebhookWorker[] = [];
let child: ChildProcess | null = null;

beforeAll(async () => {
  rx = await startReceiver();
  // This process delivers nothing by itself: the workers are the test's.
  t = await buildTestApp({ app: { secretKey: key, webhooks: { worker: false } } });
  const res = await t.app.inject({
    method: 'PUT',
    url: '/api/v1/settings/webhooks',
    headers: await t.as('admin'),
    payload: { allowPrivateTargets: true },
  });
  expect(res.statusCode, res.body).toBe(200);
});
afterAll(async () => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
  await Promise.all(workers.map((w) => w.stop()));
  await Promise.all(extraDbs.map((d) => d.close()));
  await t?.close();
  await rx?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

async function createHook(name: string, path: string): Promise<CreatedWebhook> {
  const res = await t.app.inject({
    method: 'POST',
    url: HOOKS,
    headers: await t.as('release-manager'),
    payload: { name, url: rx.url(path), events: ['release.created'] },
  });
  expect(res.statusCode, res.body).toBe(201);
  return res.json();
}

async function newRelease(version: string) {
  const res = await t.app.inject({
    method: 'POST',
    url: '/api/v1/apps/qubot-one/releases',
    headers: await t.as('deployer'),
    payload: { version, artifact: 'qubot-one/healthy' },
  });
  expect(res.statusCode, res.body).toBe(201);
}

/** A worker of its own, on its own connection pool, as another process would run it. */
function startWorker(opts: { timeoutMs?: number } = {}): WebhookWorker {
  const db = createDatabase(t.db.url, { max: 3 });
  extraDbs.push(db);
  const w = createWebhookWorker({
    repo: createWebhookRepo(db.prisma, db.pool),
    applicationName: async () => 'qubot-one',
    secrets: createSecretBox(key),
    options: {
      timeoutMs: opts.timeoutMs ?? 5000,
      maxAttempts: 3,
      backoffMs: 100,
      maxBackoffMs: 1000,
      pollMs: 50,
      concurrency: 4,
      publicUrl: 'http://127.0.0.1:8080',
    },
    onError: (err) => {
      throw err;
    },
  });
  workers.push(w);
  return w;
}

describe('[webhooks] queue', () => {
  it('four workers racing on one backlog of 120 deliveries claim and send each exactly once', async () => {
    const hook = await createHook('race', '/race');
    for (let i = 0; i < 120; i++) await newRelease(`9.${i}.0`);
    const queued = await t.db.prisma.webhookDelivery.count({
      where: { webhookId: hook.id, status: 'pending' },
    });
    expect(queued).toBe(120);
    const before = rx.received.length;
    const racers = [startWorker(), startWorker(), startWorker(), startWorker()];
    for (const w of racers) w.start();
    await rx.until(before + 120);
    await expect
      .poll(() => t.db.prisma.webhookDelivery.count({ where: { webhookId: hook.id, status: 'delivered' } }), {
        timeout: 15_000,
        interval: 50,
      })
      .toBe(120);
    await Promise.all(racers.map((w) => w.stop()));
    const ids = rx.received.slice(before).map((r) => r.headers['x-qubot-delivery'] as string);
    expect(ids).toHaveLength(120);
    expect(new Set(ids).size).toBe(120);
    const rows = await t.db.prisma.webhookDelivery.findMany({ where: { webhookId: hook.id } });
    expect(rows.every((r) => r.attempts === 1)).toBe(true);
    expect(new Set(rows.map((r) => r.id))).toEqual(new Set(ids));
    // The backlog was shared: more than one worker claimed part of it.
    expect(new Set(rows.map((r) => r.claimedBy)).size).toBeGreaterThan(1);
    await t.app.inject({
      method: 'DELETE',
      url: `${HOOKS}/${hook.id}`,
      headers: await t.as('release-manager'),
    });
  }, 60_000);

  it('SIGKILL of a worker process mid-delivery: delivered at least once by another worker, never lost, and recorded', async () => {
    const hook = await createHook('crash', '/crash');
    const before = rx.received.length;
    // The first request is never answered: the worker process is killed while it waits.
    rx.answer((_r, i) => (i === before ? { hang: true } : { status: 200, body: 'got it' }));
    child = spawn(
      process.execPath,
      ['--import', 'tsx', join(REPO_ROOT, 'apps/api/src/main.ts'), '--role', 'worker', '--port', '0'],
      {
        cwd: REPO_ROOT,
        env: {
          ...process.env,
          DATABASE_URL: t.db.url,
          QUBOT_DATA_DIR: dataDir,
          QUBOT_SECRET_KEY: key.toString('base64'),
          QUBOT_WEBHOOK_TIMEOUT_SECONDS: '1',
          QUBOT_BACKUP_EVERY_HOURS: 'off',
          QUBOT_RESTORE_DRILL_EVERY_HOURS: 'off',
          LOG_LEVEL: 'warn',
        },
        stdio: ['ignore', 'ignore', 'inherit'],
      },
    );
    await newRelease('10.0.0');
    await rx.until(before + 1);
    const first = rx.received[before];
    const deliveryId = first?.headers['x-qubot-delivery'] as string;
    const inFlight = await t.db.prisma.webhookDelivery.findUniqueOrThrow({ where: { id: deliveryId } });
    expect(inFlight).toMatchObject({ status: 'delivering', attempts: 1 });
    child.kill('SIGKILL');
    await new Promise((resolve) => child?.once('exit', resolve));

    // Another worker: it takes the delivery over once the dead worker's lease (timeout + 5 s) ends.
    startWorker().start();
    await rx.until(before + 2);
    const second = rx.received[before + 1];
    expect(second?.headers['x-qubot-delivery']).toBe(deliveryId);
    expect(second?.body).toBe(first?.body);
    await expect
      .poll(
        async () =>
          (await t.db.prisma.webhookDelivery.findUniqueOrThrow({ where: { id: deliveryId } })).status,
        {
          timeout: 10_000,
          interval: 50,
        },
      )
      .toBe('delivered');
    const done = await t.db.prisma.webhookDelivery.findUniqueOrThrow({ where: { id: deliveryId } });
    expect(done).toMatchObject({ attempts: 2, statusCode: 200, responseExcerpt: 'got it' });
    expect(done.claimedBy).not.toBe(inFlight.claimedBy);
    expect(done.error).toMatch(/delivered on attempt 2; an earlier attempt was cut off/);
    // Nothing else was queued for this webhook, and it is still exactly one delivery.
    expect(await t.db.prisma.webhookDelivery.count({ where: { webhookId: hook.id } })).toBe(1);
    // The wait was the lease, not a guess: the take-over came after it ended.
    expect((second?.at ?? 0) - (first?.at ?? 0)).toBeGreaterThanOrEqual(5000);
  }, 90_000);
});
