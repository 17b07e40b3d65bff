import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROUTE_RULES } from '../../../apps/api/src/routes/route-rules.ts';
import { buildTestApp } from '../../../test/app.ts';
import { ApiError } from './errors.ts';
import {
  authHeaders,
  buildUrl,
  createHttpClient,
  readCookie,
  SESSION_COOKIE,
  setCookieValue,
} from './http.ts';
import { createApi, ROUTES, type SessionCredential, signIn } from './routes.ts';

// Against the real API (buildTestApp on a fresh database, listening on a port), as the CLI's
// integration test does; the status-only answers come from a plain node:http server.
let t: Awaited<ReturnType<typeof buildTestApp>>;
let base: string;
let session: SessionCredential;

async function listen(server: Server): Promise<string> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

beforeAll(async () => {
  t = await buildTestApp();
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  base = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
  ({ credential: session } = await signIn(createHttpClient({ baseUrl: base }), {
    username: 'release-manager',
    password: 'demo-release-manager',
  }));
});
afterAll(async () => {
  await t?.close();
});

describe('[CLIENT] HTTP calls against the API', () => {
  it('names only routes of the server’s authorization table', () => {
    const missing = Object.keys(ROUTES).filter((key) => !(key in ROUTE_RULES));
    expect(missing).toEqual([]);
  });

  it('types every /api/v1 route of the server but the websocket', () => {
    const untyped = Object.keys(ROUTE_RULES).filter(
      (key) =>
        key.includes(' /api/v1/') &&
        !(key in ROUTES) &&
        key !== 'GET /api/v1/events' &&
        key !== 'GET /api/v1/agent/connect',
    );
    expect(untyped).toEqual([]);
  });

  it('builds the address of a route that is not read as JSON', () => {
    const api = createApi(createHttpClient({ baseUrl: 'http://qubot.test/' }));
    expect(api.url('GET /api/v1/audit.csv', { query: { actor: 'alice', env: undefined } })).toBe(
      'http://qubot.test/api/v1/audit.csv?actor=alice',
    );
    expect(
      api.url('GET /api/v1/apps/:app/environments/:env/instances/:id/logs', {
        params: { app: 'qubot-one', env: 'staging', id: 'staging-green-1a/2b' },
        query: { lines: 200, follow: true },
      }),
    ).toBe(
      'http://qubot.test/api/v1/apps/qubot-one/environments/staging/instances/staging-green-1a%2F2b/logs?lines=200&follow=true',
    );
  });

  it('signs in, then reads typed views with the session cookie', async () => {
    const api = createApi(createHttpClient({ baseUrl: base, credential: session }));
    const me = await api.call('GET /api/v1/auth/me');
    expect(me).toMatchObject({ username: 'release-manager', role: 'release-manager', kind: 'user' });
    const envs = await api.call('GET /api/v1/apps/:app/environments', { params: { app: 'qubot-one' } });
    expect(envs.items.map((e) => e.name)).toEqual(['development', 'staging', 'production']);
  });

  it('sends the CSRF token and one idempotency key on a mutation, so a retried POST is applied once', async () => {
    const http = createHttpClient({ baseUrl: base, credential: session, idempotencyKey: 'client-test-1' });
    const body = { version: '9.9.1', artifact: 'qubot-one/healthy' };
    const first = await http.request('POST', '/apps/qubot-one/releases', { body });
    const again = await http.request('POST', '/apps/qubot-one/releases', { body });
    expect(first.status).toBe(201);
    expect(again.status).toBeLessThan(300);
    expect(again.data).toEqual(first.data);
    // Without the CSRF header the same session is refused.
    const bare = createHttpClient({
      baseUrl: base,
      headers: { cookie: `${SESSION_COOKIE}=${session.session}` },
    });
    const refused = await bare
      .post('/apps/qubot-one/releases', { ...body, version: '9.9.2' })
      .catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ApiError);
    expect((refused as ApiError).status).toBe(403);
    // The browser's way: the cookie travels by itself, the token comes from the CSRF cookie.
    const browserLike = createHttpClient({
      baseUrl: base,
      headers: { cookie: `${SESSION_COOKIE}=${session.session}` },
      csrfToken: () => session.csrf,
    });
    const res = await browserLike.request('POST', '/apps/qubot-one/releases', {
      body: { ...body, version: '9.9.3' },
    });
    expect(res.status).toBe(201);
    expect(res.data).toMatchObject({ version: '9.9.3' });
  });

  it('turns the error envelope into one ApiError with status, code, message, field and request id', async () => {
    const api = createApi(createHttpClient({ baseUrl: base, credential: session }));
    const missing = await api
      .call('GET /api/v1/apps/:app/environments/:env', { params: { app: 'qubot-one', env: 'nope' } })
      .catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(ApiError);
    expect(missing).toMatchObject({ status: 404, code: 'not_found' });
    expect((missing as ApiError).requestId).toBeTruthy();

    const invalid = await api
      .call('POST /api/v1/apps/:app/environments/:env/deployments', {
        params: { app: 'qubot-one', env: 'development' },
        body: { version: '1.0.0', strategy: 'sideways' as 'rolling' },
      })
      .catch((e: unknown) => e);
    expect(invalid).toBeInstanceOf(ApiError);
    expect((invalid as ApiError).status).toBe(400);
    expect((invalid as ApiError).field).toMatch(/strategy/);
  });

  it('authenticates with a bearer token', async () => {
    const admin = createHttpClient({ baseUrl: base, headers: await t.as('admin') });
    const created = await admin.post<{ secret: string }>('/tokens', { name: 'client test', role: 'viewer' });
    const api = createApi(
      createHttpClient({ baseUrl: base, credential: { kind: 'token', token: created.secret } }),
    );
    expect(await api.call('GET /api/v1/auth/me')).toMatchObject({ role: 'viewer', kind: 'token' });
    const denied = await api
      .call('POST /api/v1/apps/:app/environments/:env/rollback', {
        params: { app: 'qubot-one', env: 'development' },
        body: {},
      })
      .catch((e: unknown) => e);
    expect(denied).toMatchObject({ status: 403, code: 'forbidden' });
  });
});

describe('[CLIENT] answers without an envelope', () => {
  let server: Server;
  let plain: string;
  const answers: Array<{ status: number; type: string; body: string }> = [];
  const keys: Array<string | undefined> = [];
  beforeAll(async () => {
    server = createServer((req, res) => {
      keys.push(req.headers['idempotency-key'] as string | undefined);
      const next = answers.shift() ?? { status: 500, type: 'text/plain', body: 'no answer scripted' };
      res.writeHead(next.status, { 'content-type': next.type, 'x-request-id': 'plain-1' });
      res.end(next.body);
    });
    plain = await listen(server);
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('retries a POST after a 503 with the same idempotency key, backing off', async () => {
    answers.push(
      { status: 503, type: 'text/html', body: '<html>Service Unavailable</html>' },
      { status: 502, type: 'text/html', body: '<html>Bad gateway</html>' },
      { status: 202, type: 'application/json', body: '{"id":"d1"}' },
    );
    keys.length = 0;
    const delays: number[] = [];
    const http = createHttpClient({
      baseUrl: plain,
      idempotencyKey: 'key-1',
      retries: 2,
      sleep: async (ms) => {
        delays.push(ms);
      },
    });
    const res = await http.request('POST', '/x', { body: {} });
    expect(res).toMatchObject({ status: 202, data: { id: 'd1' } });
    expect(keys).toEqual(['key-1', 'key-1', 'key-1']);
    expect(delays).toEqual([500, 1000]);
  });

  it('does not retry a client error, and gives up on an unreachable server after its retries', async () => {
    answers.push({
      status: 404,
      type: 'application/json',
      body: '{"error":{"code":"not_found","message":"environment nope not found"},"requestId":"r"}',
    });
    keys.length = 0;
    const delays: number[] = [];
    const sleep = async (ms: number) => {
      delays.push(ms);
    };
    const err = await createHttpClient({ baseUrl: plain, retries: 2, sleep })
      .post('/apps/a/environments/nope/deployments', {})
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 404, code: 'not_found', message: 'environment nope not found' });
    expect(keys).toHaveLength(1);
    expect(delays).toEqual([]);

    const closed = createServer();
    const gone = await listen(closed);
    await new Promise<void>((r) => closed.close(() => r()));
    const unreachable = await createHttpClient({ baseUrl: gone, retries: 1, sleep })
      .get('/apps')
      .catch((e: unknown) => e);
    expect(unreachable).toMatchObject({ status: 0, code: 'network_error' });
    expect(delays).toEqual([500]);
  });

  it('reports a gateway error, a non-JSON success and an unreachable server by status and code', async () => {
    const http = createHttpClient({ baseUrl: plain });
    answers.push({ status: 502, type: 'text/html', body: '<html>Bad gateway</html>' });
    expect(await http.get('/apps').catch((e: unknown) => e)).toMatchObject({
      status: 502,
      code: 'unavailable',
      requestId: 'plain-1',
    });
    answers.push({ status: 404, type: 'application/json', body: '{"message":"nope"}' });
    expect(await http.get('/apps').catch((e: unknown) => e)).toMatchObject({
      status: 404,
      code: 'http_error',
    });
    answers.push({ status: 200, type: 'text/html', body: '<!doctype html>' });
    await expect(http.get('/apps')).rejects.toThrow(/did not answer with JSON/);

    const closed = createServer();
    const gone = await listen(closed);
    await new Promise<void>((r) => closed.close(() => r()));
    const err = await createHttpClient({ baseUrl: gone })
      .get('/apps')
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 0, code: 'network_error' });
    expect((err as ApiError).message).toContain(`cannot reach ${gone}: ECONNREFUSED`);
  });

  it('lets a cancellation through as it is', async () => {
    const controller = new AbortController();
    controller.abort();
    const err = await createHttpClient({ baseUrl: plain })
      .get('/apps', undefined, { signal: controller.signal })
      .catch((e: unknown) => e);
    expect(err).not.toBeInstanceOf(ApiError);
    expect((err as Error).name).toBe('AbortError');
  });
});

describe('[CLIENT] URLs and cookies', () => {
  it('prefixes the API base, keeps absolute API paths and drops empty query values', () => {
    expect(buildUrl('', '/deployments', { app: 'qubot-one', env: undefined, status: '', cursor: null })).toBe(
      '/api/v1/deployments?app=qubot-one',
    );
    expect(buildUrl('', '/api/openapi.json')).toBe('/api/openapi.json');
    expect(buildUrl('http://x/base/', '/deployments', { env: 'a b', limit: 5 })).toBe(
      'http://x/base/api/v1/deployments?env=a+b&limit=5',
    );
  });

  it('finds a cookie by exact name, decoded', () => {
    expect(readCookie('qubot_csrf', 'xqubot_csrf=no; qubot_csrf=abc%3D123')).toBe('abc=123');
    expect(readCookie('qubot_csrf', '')).toBeNull();
    expect(readCookie('qubot_csrf', undefined)).toBeNull();
    expect(setCookieValue(['a=1; Path=/', 'qubot_csrf=c1; HttpOnly'], 'qubot_csrf')).toBe('c1');
  });

  it('sends the session only when asked: the CSRF header on mutations, never on reads', () => {
    const s = { kind: 'session', session: 's1', csrf: 'c1' } as const;
    expect(authHeaders(s, 'GET')).toEqual({ cookie: 'qubot_session=s1; qubot_csrf=c1' });
    expect(authHeaders(s, 'POST')).toEqual({
      cookie: 'qubot_session=s1; qubot_csrf=c1',
      'x-csrf-token': 'c1',
    });
    expect(authHeaders({ kind: 'token', token: 'qbt_x' }, 'POST')).toEqual({ authorization: 'Bearer qbt_x' });
    expect(authHeaders(null, 'POST')).toEqual({});
  });
});
