// The authorization matrix: every route × every role × no credentials, from
// the table in route-rules.ts. A route without a rule fails here.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, loginAs } from '../../../../test/app.ts';
import { ROLES, roleAtLeast } from '../lib/permissions.ts';
import { COVERED_OUTSIDE_API, ROUTE_RULES, type RouteRule, sampleUrl } from './route-rules.ts';

let t: Awaited<ReturnType<typeof buildTestApp>>;
// A real deployment for /deployments/:id/* routes: services may look the
// deployment up before checking the role its environment needs.
let deploymentId: string;
beforeAll(async () => {
  t = await buildTestApp();
  const app = await t.db.prisma.application.findUniqueOrThrow({ where: { name: 'qubot-one' } });
  const env = await t.db.prisma.environment.findFirstOrThrow({
    where: { applicationId: app.id, name: 'development' },
  });
  const rel = await t.db.prisma.release.findFirstOrThrow({
    where: { applicationId: app.id, version: '1.1.0' },
  });
  const dep = await t.db.prisma.deployment.create({
    data: {
      applicationId: app.id,
      environmentId: env.id,
      releaseId: rel.id,
      strategy: 'canary',
      status: 'paused',
      waitingFor: 'approval',
      actor: 'someone-else',
    },
  });
  deploymentId = dep.id;
});
afterAll(async () => {
  await t.close();
});

const normalise = (r: RouteRule) => (typeof r === 'string' ? { min: r } : r);

describe('[security] authorization matrix', () => {
  it('has exactly one rule for every API route', () => {
    const routes = new Set(
      t.app.routeCatalog
        .filter((r) => r.method !== 'HEAD')
        .filter((r) => r.url.startsWith('/api/') || COVERED_OUTSIDE_API.includes(r.url))
        .map((r) => `${r.method} ${r.url}`),
    );
    const missing = [...routes].filter((r) => !(r in ROUTE_RULES));
    expect(missing, 'routes without a rule in routes/route-rules.ts').toEqual([]);
    const stale = Object.keys(ROUTE_RULES).filter((r) => !routes.has(r));
    expect(stale, 'rules for routes that do not exist').toEqual([]);
    // Public in the table ⇔ public in the server.
    for (const r of t.app.routeCatalog.filter((r) => r.url.startsWith('/api/v1') && r.method !== 'HEAD')) {
      const rule = ROUTE_RULES[`${r.method} ${r.url}`];
      if (rule) expect(r.public, `${r.method} ${r.url}`).toBe(normalise(rule).min === 'public');
    }
  });

  for (const [key, raw] of Object.entries(ROUTE_RULES)) {
    const rule = normalise(raw);
    const [method, pattern] = key.split(' ') as [string, string];
    it(`${key} → ${rule.min}`, async () => {
      const call = (headers: Record<string, string>) =>
        t.app.inject({
          method: method as 'GET',
          url: rule.url ?? sampleUrl(pattern.replace('/deployments/:id', `/deployments/${deploymentId}`)),
          headers,
          ...(rule.body !== undefined ? { payload: rule.body as object } : {}),
        });
      const anon = await call({});
      if (rule.min === 'public')
        expect([401, 403], `no credentials: ${anon.body}`).not.toContain(anon.statusCode);
      else {
        expect(anon.statusCode, `no credentials: ${anon.body}`).toBe(401);
        expect(anon.json().error.code).toBe('unauthenticated');
      }
      for (const role of ROLES) {
        const headers = rule.freshSession ? await loginAs(t.app, role) : await t.as(role);
        const res = await call(headers);
        const allowed = rule.min === 'public' || roleAtLeast(role, rule.min);
        if (allowed) expect([401, 403], `${role}: ${res.body}`).not.toContain(res.statusCode);
        else {
          expect(res.statusCode, `${role}: ${res.body}`).toBe(403);
          expect(res.json().error.message).toMatch(/^forbidden: /);
        }
        expect(res.statusCode, `${role}: ${res.body}`).toBeLessThan(500);
      }
    });
  }
});
