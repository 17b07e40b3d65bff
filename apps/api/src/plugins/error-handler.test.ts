import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp } from '../../../../test/app.ts';

let t: Awaited<ReturnType<typeof buildTestApp>>;
beforeAll(async () => {
  t = await buildTestApp({ seed: false });
});
afterAll(async () => {
  await t.close();
});

describe('[API] error envelope', () => {
  it('answers a URL with broken percent-encoding with 400 in the envelope', async () => {
    for (const url of ['/api/v1/%E0%A4%A', '/api/v1/apps/%E0%A4%A/environments', '/%ZZ']) {
      const res = await t.app.inject({ method: 'GET', url, headers: { 'x-request-id': 'bad-url-1' } });
      expect(res.statusCode, url).toBe(400);
      expect(res.headers['content-type']).toMatch(/application\/json/);
      expect(res.json(), url).toEqual({
        error: {
          code: 'bad_request',
          message: 'the URL is malformed: it has an invalid percent-encoding',
          details: { field: 'url' },
        },
        requestId: 'bad-url-1',
      });
      expect(res.headers['x-request-id']).toBe('bad-url-1');
    }
  });
});
