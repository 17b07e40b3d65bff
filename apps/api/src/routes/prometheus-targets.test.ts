// Prometheus HTTP service discovery: GET /api/v1/prometheus/targets lists every router and live
// instance metrics endpoint, with the labels the dashboards group by, to a reader's token.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { promtoolCheckMetrics } from '../../../../test/prometheus-text.ts';
import { APP, FAST, type Harness, startHarness } from '../orchestrator/test-helpers.ts';

let h: Harness;
const FINAL = ['succeeded', 'failed', 'rolled_back', 'aborted'];

beforeAll(async () => {
  h = await startHarness();
  const d = await h.deploy('development', { version: '1.0.0', strategy: 'blue-green', options: FAST });
  expect((await h.until(d.id, FINAL)).status).toBe('succeeded');
}, 60_000);
afterAll(async () => {
  await h?.close();
});

async function token(body: object) {
  const res = await h.app.inject({
    method: 'POST',
    url: '/api/v1/tokens',
    headers: await h.as('admin'),
    payload: { name: `sd-${Math.random().toString(36).slice(2, 8)}`, role: 'viewer', ...body },
  });
  expect(res.statusCode, res.body).toBe(201);
  return { authorization: `Bearer ${res.json().secret}` };
}
const targets = (headers: Record<string, string>) =>
  h.app.inject({ method: 'GET', url: '/api/v1/prometheus/targets', headers });

type Group = { targets: string[]; labels: Record<string, string> };

describe('[MONITORING] Prometheus http_sd targets', () => {
  it('lists each router and live instance with application, environment, pool and version; each answers /metrics', async () => {
    const res = await targets(await token({}));
    expect(res.statusCode, res.body).toBe(200);
    const groups = res.json() as Group[];
    const env = await h.db.prisma.environment.findFirstOrThrow({ where: { name: 'development' } });
    const routers = groups.filter((g) => g.labels.qubot_component === 'router');
    expect(routers).toContainEqual({
      targets: [`127.0.0.1:${env.routerControlPort}`],
      labels: {
        __metrics_path__: '/metrics',
        qubot_component: 'router',
        application: APP,
        environment: 'development',
      },
    });
    const live = await h.db.prisma.instance.findMany({
      where: { environmentId: env.id, status: { in: ['starting', 'running', 'unhealthy', 'stopping'] } },
      include: { release: true },
    });
    expect(live.length).toBeGreaterThan(0);
    const instances = groups.filter((g) => g.labels.qubot_component === 'instance');
    expect(instances.map((g) => g.targets[0]).sort()).toEqual(live.map((i) => `127.0.0.1:${i.port}`).sort());
    for (const i of live)
      expect(instances).toContainEqual({
        targets: [`127.0.0.1:${i.port}`],
        labels: {
          __metrics_path__: '/metrics',
          qubot_component: 'instance',
          application: APP,
          environment: 'development',
          pool: i.pool,
          version: '1.0.0',
        },
      });
    // Real endpoints: the router's request counters and the instance's own metrics.
    const routerText = await (await fetch(`http://${routers[0]?.targets[0]}/metrics`)).text();
    expect(routerText).toMatch(/# TYPE qubot_router_requests_total counter/);
    expect(promtoolCheckMetrics(routerText)).toEqual({ status: 0, output: '' });
    const instanceRes = await fetch(`http://${instances[0]?.targets[0]}/metrics`);
    expect(instanceRes.status).toBe(200);
    const instanceText = await instanceRes.text();
    expect(instanceText).toMatch(/^# (HELP|TYPE) /m);
    expect(promtoolCheckMetrics(instanceText)).toEqual({ status: 0, output: '' });
  });

  it('needs credentials; a token limited to another application sees nothing of this one', async () => {
    const anonymous = await targets({});
    expect(anonymous.statusCode).toBe(401);
    expect(anonymous.json().error.code).toBe('unauthenticated');
    await h.db.prisma.application.create({
      data: { name: 'other-app', launcher: 'node server.js --port {port}' },
    });
    const scoped = await targets(await token({ applications: ['other-app'] }));
    expect(scoped.statusCode, scoped.body).toBe(200);
    expect(scoped.json()).toEqual([]);
    const mine = await targets(await token({ applications: [APP] }));
    expect((mine.json() as Group[]).length).toBeGreaterThan(0);
  });
});
