import { describe, expect, it } from 'vitest';
import { authHeaders, buildUrl, createClient, errorFromResponse } from './client.ts';
import { ApiError, ExitCode, NetworkError } from './exit-utils.ts';

type Call = { url: string; init: RequestInit };

function fakeFetch(responses: Array<Response | Error>) {
  const calls: Call[] = [];
  const fn = (async (url: string, init: RequestInit) => {
    calls.push({ url, init });
    const next = responses.shift();
    if (!next) throw new Error('no more responses');
    if (next instanceof Error) throw next;
    return next;
  }) as unknown as typeof fetch;
  return { fn, calls };
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });

const header = (c: Call, name: string) => (c.init.headers as Record<string, string>)[name];

describe('[CLI] HTTP client', () => {
  it('retries a POST after a network error and a 503 with the same idempotency key', async () => {
    const { fn, calls } = fakeFetch([
      new TypeError('fetch failed'),
      json(503, { error: { code: 'unavailable', message: 'db down' }, requestId: 'r1' }),
      json(202, { id: 'd1' }),
    ]);
    const client = createClient({
      server: 'http://x',
      credential: { kind: 'token', token: 'qbt_abc' },
      idempotencyKey: 'key-1',
      fetch: fn,
      sleep: async () => {},
    });
    const res = await client.post('/apps/a/environments/e/deployments', { version: '1' });
    expect(res.status).toBe(202);
    expect(calls).toHaveLength(3);
    expect(calls.map((c) => header(c, 'idempotency-key'))).toEqual(['key-1', 'key-1', 'key-1']);
    expect(header(calls[0]!, 'authorization')).toBe('Bearer qbt_abc');
    expect(calls[0]!.url).toBe('http://x/api/v1/apps/a/environments/e/deployments');
    expect(calls[0]!.init.body).toBe('{"version":"1"}');
  });

  it('turns the error envelope into a typed error with the request id', async () => {
    const { fn } = fakeFetch([
      json(409, {
        error: { code: 'conflict', message: 'staging already has an active deployment' },
        requestId: 'req-9',
      }),
    ]);
    const client = createClient({ server: 'http://x', credential: null, idempotencyKey: 'k', fetch: fn });
    const err = await client.post('/x', {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({
      status: 409,
      code: 'conflict',
      message: 'staging already has an active deployment',
      requestId: 'req-9',
      exitCode: ExitCode.Conflict,
    });
  });

  it('gives up with exit 7 when the server stays unreachable', async () => {
    const { fn, calls } = fakeFetch([new TypeError('fetch failed'), new TypeError('fetch failed')]);
    const client = createClient({
      server: 'http://x',
      credential: null,
      idempotencyKey: 'k',
      retries: 1,
      fetch: fn,
      sleep: async () => {},
    });
    const err = await client.get('/apps').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NetworkError);
    expect((err as NetworkError).exitCode).toBe(ExitCode.Unavailable);
    expect(calls).toHaveLength(2);
  });

  it('does not retry client errors', async () => {
    const { fn, calls } = fakeFetch([
      json(404, { error: { code: 'not_found', message: 'environment nope not found' }, requestId: 'r' }),
    ]);
    const client = createClient({ server: 'http://x', credential: null, idempotencyKey: 'k', fetch: fn });
    await expect(client.get('/apps/a/environments/nope')).rejects.toMatchObject({
      exitCode: ExitCode.NotFound,
    });
    expect(calls).toHaveLength(1);
  });

  it('reports a non-JSON success (wrong --server) instead of returning garbage', async () => {
    const { fn } = fakeFetch([
      new Response('<html></html>', { status: 200, headers: { 'content-type': 'text/html' } }),
    ]);
    const client = createClient({ server: 'http://x', credential: null, idempotencyKey: 'k', fetch: fn });
    await expect(client.get('/apps')).rejects.toThrow(/did not answer with JSON/);
  });

  it('builds envelope-less errors from the status', () => {
    expect(errorFromResponse(502, undefined, 'h1')).toMatchObject({
      exitCode: ExitCode.Unavailable,
      requestId: 'h1',
    });
    expect(errorFromResponse(418, 'teapot', null)).toMatchObject({
      exitCode: ExitCode.Error,
      code: 'http_error',
    });
  });

  it('sends the session cookie, and the CSRF token only on mutations', () => {
    const session = { kind: 'session', session: 's1', csrf: 'c1', username: 'alice' } as const;
    expect(authHeaders(session, 'GET')).toEqual({ cookie: 'qubot_session=s1; qubot_csrf=c1' });
    expect(authHeaders(session, 'POST')).toEqual({
      cookie: 'qubot_session=s1; qubot_csrf=c1',
      'x-csrf-token': 'c1',
    });
    expect(authHeaders(null, 'POST')).toEqual({});
  });

  it('encodes query parameters and drops empty ones', () => {
    expect(
      buildUrl('http://x/base', '/deployments', { app: 'a b', env: undefined, status: '', limit: 5 }),
    ).toBe('http://x/base/api/v1/deployments?app=a+b&limit=5');
  });
});
