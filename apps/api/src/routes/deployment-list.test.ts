import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildTestApp } from '../../../../test/app.ts';

let t: Awaited<ReturnType<typeof buildTestApp>>;
beforeAll(async () => {
  t = await buildTestApp();
});
afterAll(async () => {
  await t.close();
});

it('[API] deployment history: names resolved in the page query still answer 404/400 naming the field', async () => {
  const viewer = await t.as('viewer');
  const get = (query: string) =>
    t.app.inject({ method: 'GET', url: `/api/v1/deployments?${query}`, headers: viewer });
  const cases: [string, number, string | null][] = [
    ['app=nope', 404, 'querystring.app'],
    ['app=nope&env=staging', 404, 'querystring.app'],
    ['app=qubot-one&env=nope', 404, 'querystring.env'],
    ['env=staging', 400, 'querystring.env'],
    ['app=qubot-one&cursor=not-a-cursor', 400, 'querystring.cursor'],
    ['app=qubot-one&env=staging&status=failed', 200, null],
    ['limit=5', 200, null],
  ];
  for (const [query, status, field] of cases) {
    const res = await get(query);
    expect(res.statusCode, `${query}: ${res.body}`).toBe(status);
    if (field) expect(res.json().error.details.field, query).toBe(field);
    else expect(res.json()).toEqual({ items: [], nextCursor: null });
  }
});
