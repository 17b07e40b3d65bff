// The control plane's transactions send their one pg connection one statement at a time (issue
// 10). Before, every transaction that appended `environment.updated` read the environment view (an
// include of five relations) inside it, and Prisma sent those reads at once on the transaction's
// connection: pg 8 warns "Calling client.query() when the client is already executing a query"
// (once per process), pg 9 throws. This file listens for that warning while it drives those
// transactions through the API and the orchestrator, so it fails if the pattern comes back.
// packages/db/src/transaction-queries.test.ts shows the warning does come without the fix.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APP, FAST, FINAL, type Harness, startHarness } from './test-helpers.ts';

const QUEUE_WARNING = /Calling client\.query\(\) when the client is already executing a query/;
const warnings: Error[] = [];
const onWarning = (w: Error) => warnings.push(w);
process.on('warning', onWarning);
const queueWarnings = () => warnings.filter((w) => QUEUE_WARNING.test(w.message)).map((w) => w.message);

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  process.off('warning', onWarning);
  await h?.close();
});

describe('[pg] one statement at a time on a transaction’s connection', () => {
  it('a deployment run by the orchestrator, a configuration write, a policy write and a deployment refused by the promotion order queue nothing on a transaction’s connection', async () => {
    // deployment-command-service launch → engine.apply at every transition (orchestrator), with
    // the health monitor and the reconciler running beside it.
    const d = await h.deploy('development', {
      version: '1.0.0',
      strategy: 'blue-green',
      options: { ...FAST, autoSwitch: true },
    });
    expect((await h.until(d.id, FINAL)).status).toBe('succeeded');
    expect(await h.environment('development')).toMatchObject({ live: { version: '1.0.0' } });

    // config-service put.
    const config = await h.app.inject({
      method: 'PUT',
      url: `/api/v1/apps/${APP}/environments/development/config`,
      headers: await h.as('admin'),
      payload: { entries: [{ key: 'LOG_LEVEL', value: 'debug' }] },
    });
    expect(config.statusCode, config.body).toBe(201);

    // policy-service writePolicy.
    const policy = await h.app.inject({
      method: 'PUT',
      url: `/api/v1/apps/${APP}/environments/staging/policy`,
      headers: await h.as('admin'),
      payload: { mode: 'manual' },
    });
    expect(policy.statusCode, policy.body).toBe(200);

    // launch → the promotion gate's reads (deployment-repo promotionFacts) inside the transaction.
    const refused = await h.post(`/apps/${APP}/environments/staging/deployments`, {
      version: '1.1.0',
      strategy: 'rolling',
      reason: 'test',
    });
    expect(refused.statusCode, refused.body).toBe(409);
    expect(refused.json().error.details.rule).toBe('promotion_order');

    expect(queueWarnings()).toEqual([]);
  });
});
