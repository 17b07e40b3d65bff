// The analysis provider setting: admin only, validated at save naming the field, audited, a
// reason on protected environments, and concurrent changes serialised on the environment's row.

import { QUBOT_ROUTER_QUERIES } from '@qubot/api-contract';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp } from '../../../../test/app.ts';

let t: Awaited<ReturnType<typeof buildTestApp>>;
const url = (env: string) => `/api/v1/apps/qubot-one/environments/${env}/analysis-provider`;
const PROM = { url: 'http://prometheus.example:9090/', queries: QUBOT_ROUTER_QUERIES };

const put = async (env: string, payload: object, role: 'admin' | 'release-manager' = 'admin') =>
  t.app.inject({ method: 'PUT', url: url(env), headers: await t.as(role), payload });

beforeAll(async () => {
  t = await buildTestApp();
});
afterAll(async () => {
  await t?.close();
});

describe('analysis provider setting', () => {
  it('defaults to the router; an admin sets Prometheus (audited); readers see it; back to the router', async () => {
    const initial = await t.app.inject({
      method: 'GET',
      url: url('development'),
      headers: await t.as('viewer'),
    });
    expect(initial.statusCode, initial.body).toBe(200);
    expect(initial.json()).toMatchObject({ provider: 'router', prometheus: null, updatedBy: null });
    expect(initial.json().placeholders).toEqual([
      '{{app}}',
      '{{env}}',
      '{{pool}}',
      '{{version}}',
      '{{window}}',
    ]);

    const denied = await put('development', { provider: 'prometheus', prometheus: PROM }, 'release-manager');
    expect(denied.statusCode).toBe(403);

    const set = await put('development', {
      provider: 'prometheus',
      prometheus: PROM,
      reason: 'use Prometheus',
    });
    expect(set.statusCode, set.body).toBe(200);
    expect(set.json()).toMatchObject({
      provider: 'prometheus',
      // Stored without the trailing slash, with the default timeout.
      prometheus: { url: 'http://prometheus.example:9090', queries: QUBOT_ROUTER_QUERIES, timeoutSeconds: 5 },
      updatedBy: 'admin',
    });
    const read = await t.app.inject({
      method: 'GET',
      url: url('development'),
      headers: await t.as('viewer'),
    });
    expect(read.json()).toEqual(set.json());
    const row = await t.db.prisma.environment.findFirstOrThrow({ where: { name: 'development' } });
    expect(row.analysisPrometheus).toMatchObject({ url: 'http://prometheus.example:9090' });

    // The same setting again changes (and audits) nothing.
    expect((await put('development', { provider: 'prometheus', prometheus: PROM })).statusCode).toBe(200);
    const audit = await t.db.prisma.auditEntry.findMany({
      where: { action: 'environment.analysis_provider' },
    });
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({
      actor: 'admin',
      target: 'qubot-one/development',
      reason: 'use Prometheus',
      before: { provider: 'router', prometheus: null },
      after: { provider: 'prometheus', prometheus: { url: 'http://prometheus.example:9090' } },
    });

    const back = await put('development', { provider: 'router' });
    expect(back.json()).toMatchObject({ provider: 'router', prometheus: null });
    const cleared = await t.db.prisma.environment.findFirstOrThrow({ where: { name: 'development' } });
    expect(cleared.analysisPrometheus).toBeNull();
  });

  it('bad settings are refused with 400 naming the field, and nothing is stored', async () => {
    const cases: [object, string, RegExp][] = [
      [{ provider: 'prometheus' }, 'body.prometheus', /required/],
      [{ provider: 'router', prometheus: PROM }, 'body.prometheus', /only goes with/],
      [{ provider: 'prometheus', prometheus: { ...PROM, url: 'not a url' } }, 'body.prometheus.url', /URL/],
      [
        { provider: 'prometheus', prometheus: { ...PROM, url: 'ftp://prom:21' } },
        'body.prometheus.url',
        /http/,
      ],
      [
        { provider: 'prometheus', prometheus: { ...PROM, url: 'http://user:secret@prom:9090' } },
        'body.prometheus.url',
        /credentials/,
      ],
      [
        {
          provider: 'prometheus',
          prometheus: {
            ...PROM,
            queries: { ...PROM.queries, errorRate: 'sum(rate(x{pool="{{pool}}",z="{{zone}}"}[1m]))' },
          },
        },
        'body.prometheus.queries.errorRate',
        /unknown placeholder \{\{zone\}\}/,
      ],
      [
        {
          provider: 'prometheus',
          prometheus: { ...PROM, queries: { ...PROM.queries, p95Seconds: 'histogram_quantile(0.95, x)' } },
        },
        'body.prometheus.queries.p95Seconds',
        /must use \{\{pool\}\}/,
      ],
      [
        {
          provider: 'prometheus',
          prometheus: {
            ...PROM,
            queries: { ...PROM.queries, requests: 'sum(x{pool="{{pool}}"}[{{window])' },
          },
        },
        'body.prometheus.queries.requests',
        /unclosed/,
      ],
      [
        { provider: 'prometheus', prometheus: { ...PROM, queries: { requests: 'x{pool="{{pool}}"}' } } },
        'body.prometheus.queries.errorRate',
        /required/,
      ],
      [
        { provider: 'prometheus', prometheus: { ...PROM, timeoutSeconds: 0 } },
        'body.prometheus.timeoutSeconds',
        /./,
      ],
      [{ provider: 'graphite' }, 'body.provider', /./],
    ];
    for (const [payload, field, message] of cases) {
      const res = await put('staging', payload);
      expect(res.statusCode, JSON.stringify(payload)).toBe(400);
      expect(res.json().error.details.field, JSON.stringify(payload)).toBe(field);
      expect(res.json().error.message).toMatch(message);
    }
    const row = await t.db.prisma.environment.findFirstOrThrow({ where: { name: 'staging' } });
    expect(row.analysisPrometheus).toBeNull();
  });

  it('a protected environment needs a reason', async () => {
    const res = await put('production', { provider: 'prometheus', prometheus: PROM });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.details.field).toBe('body.reason');
    const ok = await put('production', { provider: 'prometheus', prometheus: PROM, reason: 'CHG-1' });
    expect(ok.statusCode, ok.body).toBe(200);
  });

  it('race: concurrent changes are serialised — the stored setting is the last audited one, each audit starts where the previous ended', async () => {
    const urls = ['http://prom-a:9090', 'http://prom-b:9090', 'http://prom-c:9090', 'http://prom-d:9090'];
    const answers = await Promise.all(
      urls.map((u) => put('staging', { provider: 'prometheus', prometheus: { ...PROM, url: u }, reason: u })),
    );
    for (const a of answers) expect(a.statusCode, a.body).toBe(200);
    const audit = await t.db.prisma.auditEntry.findMany({
      where: { action: 'environment.analysis_provider', target: 'qubot-one/staging' },
      orderBy: { id: 'asc' },
    });
    expect(audit).toHaveLength(urls.length);
    const urlOf = (side: unknown) => (side as { prometheus: { url: string } | null }).prometheus?.url;
    const chain = audit.map((a) => ({ before: urlOf(a.before), after: urlOf(a.after) }));
    for (let i = 1; i < chain.length; i++) expect(chain[i]?.before).toBe(chain[i - 1]?.after);
    const last = chain.at(-1)?.after;
    const served = await t.app.inject({ method: 'GET', url: url('staging'), headers: await t.as('viewer') });
    expect(served.json().prometheus.url).toBe(last);
  });
});
