// Schema-driven hostile input over every API route: malformed JSON, wrong
// types, unknown fields, oversized bodies and injection strings, in bodies,
// query strings and path parameters. Not one may get a 5xx (DESIGN §9).
import type { InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, loginAs } from '../../../../test/app.ts';
import { ROUTE_RULES, sampleUrl } from './route-rules.ts';

let t: Awaited<ReturnType<typeof buildTestApp>>;
beforeAll(async () => {
  t = await buildTestApp();
});
afterAll(async () => {
  await t.close();
});

const NASTY = [
  "' OR '1'='1' --",
  '"; DROP TABLE users; --',
  '<script>alert(1)</script>',
  '../../../../etc/passwd',
  '$' + '{jndi:ldap://127.0.0.1/a}{{7*7}}',
  'a\u0000b',
  '\ud800',
  "=cmd|' /C calc'!A0",
  '🚀'.repeat(50),
  'x'.repeat(20_000),
  '',
];
const WRONG_TYPES: unknown[] = [-1.5, true, null, { $gt: '' }, ['a', 'b']];

// A lone surrogate cannot be percent-encoded by encodeURIComponent; send its raw UTF-8 bytes.
const enc = (v: string) => {
  try {
    return encodeURIComponent(v);
  } catch {
    return '%ED%A0%80';
  }
};

type Schema = { type?: string; properties?: Record<string, Schema> };

function bodyCases(schema: Schema | undefined, sample: Record<string, unknown>): Array<[string, unknown]> {
  const cases: Array<[string, unknown]> = [
    ['array body', []],
    ['string body', 'hello'],
    ['number body', 42],
    ['unknown field', { ...sample, zzz: 1 }],
    ['prototype pollution', JSON.parse('{"__proto__": {"admin": true}, "constructor": {"prototype": {}}}')],
  ];
  for (const prop of Object.keys(schema?.properties ?? {})) {
    for (const v of [...WRONG_TYPES, ...NASTY])
      cases.push([`${prop}=${JSON.stringify(v).slice(0, 30)}`, { ...sample, [prop]: v }]);
  }
  return cases;
}

// One test per API route of the table (authorization.test.ts makes sure the table lists them all),
// with admin credentials so requests reach the services.
const API_ROUTES = Object.keys(ROUTE_RULES).filter((k) => k.split(' ')[1]?.startsWith('/api/v1'));

describe('[security] bad input never gets a 5xx', () => {
  it.each(API_ROUTES)('%s', async (routeKey) => {
    const admin = await t.as('admin');
    const routes = t.app.routeCatalog.filter((r) => `${r.method} ${r.url}` === routeKey && !r.websocket);
    const failures: string[] = [];
    let sent = 0;
    const send = async (label: string, opts: InjectOptions & { method: string }) => {
      const rule = ROUTE_RULES[`${opts.method} ${label.split(' ')[1]}`];
      const headers = {
        ...(typeof rule === 'object' && rule.freshSession ? await loginAs(t.app, 'admin') : admin),
        ...(opts.headers as Record<string, string> | undefined),
      };
      const res = await t.app.inject({ ...opts, headers });
      sent++;
      if (res.statusCode >= 500) failures.push(`${label}: ${res.statusCode} ${res.body.slice(0, 200)}`);
    };
    for (const r of routes) {
      const key = `${r.method} ${r.url}`;
      const rule = ROUTE_RULES[key];
      const sample = (typeof rule === 'object' && (rule.body as Record<string, unknown>)) || {};
      const schema = r.schema as { body?: Schema; querystring?: Schema; params?: Schema } | undefined;
      const method = r.method as InjectOptions['method'] & string;
      const url = sampleUrl(r.url);
      if (method !== 'GET' && method !== 'DELETE') {
        await send(`${key} malformed JSON`, {
          method,
          url,
          headers: { 'content-type': 'application/json' },
          payload: '{"a": ',
        });
        await send(`${key} oversized`, {
          method,
          url,
          headers: { 'content-type': 'application/json' },
          payload: JSON.stringify({ x: 'y'.repeat(300 * 1024) }),
        });
        await send(`${key} wrong content type`, {
          method,
          url,
          headers: { 'content-type': 'text/xml' },
          payload: '<a/>',
        });
        for (const [what, body] of bodyCases(schema?.body, sample))
          await send(`${key} ${what}`, { method, url, payload: body as object });
      }
      for (const q of [...Object.keys(schema?.querystring?.properties ?? {}), 'zzz']) {
        for (const v of [...NASTY.filter((n) => n.length < 5000), '-1', '1e309', '[]'])
          await send(`${key} ?${q}=${v.slice(0, 20)}`, {
            method,
            url: `${url}?${q}=${enc(v)}`,
            ...(rule && typeof rule === 'object' && rule.body ? { payload: rule.body as object } : {}),
          });
      }
      for (const p of Object.keys(schema?.params?.properties ?? {})) {
        for (const v of NASTY.filter((n) => n.length > 0 && n.length < 5000)) {
          const bad = r.url.replace(`:${p}`, enc(v));
          await send(`${key} :${p}=${v.slice(0, 20)}`, { method, url: sampleUrl(bad) });
        }
      }
    }
    expect(failures).toEqual([]);
    if (routes.length > 0) expect(sent).toBeGreaterThan(10);
  });
});
