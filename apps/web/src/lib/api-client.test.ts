import { afterEach, describe, expect, it, vi } from 'vitest';
import { ApiError, apiFetch, buildUrl, errorMessage, readCookie } from './api-client';

type FetchArgs = [input: string, init: RequestInit];

function stubFetch(response: Response | (() => Promise<Response>)) {
  const mock = vi.fn<(...args: FetchArgs) => Promise<Response>>(() =>
    typeof response === 'function' ? response() : Promise.resolve(response),
  );
  vi.stubGlobal('fetch', mock);
  return mock;
}

function json(body: unknown, status = 200, headers: Record<string, string> = {}) {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
  });
}

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('apiFetch', () => {
  it('GETs under /api/v1 with JSON accept, same-origin credentials and no CSRF header', async () => {
    vi.stubGlobal('document', { cookie: 'qubot_csrf=tok' });
    const fetchMock = stubFetch(json({ items: [{ name: 'qubot-one' }], nextCursor: null }));

    const result = await apiFetch<{ items: { name: string }[] }>('/apps');

    expect(result.items[0]?.name).toBe('qubot-one');
    const [url, init] = fetchMock.mock.calls[0]!;
    expect(url).toBe('/api/v1/apps');
    expect(init.method).toBe('GET');
    expect(init.credentials).toBe('same-origin');
    const headers = new Headers(init.headers);
    expect(headers.get('accept')).toBe('application/json');
    expect(headers.has('x-csrf-token')).toBe(false);
    expect(init.body).toBeUndefined();
  });

  it('sends JSON, the CSRF cookie value and an idempotency key on mutations', async () => {
    vi.stubGlobal('document', { cookie: 'other=1; qubot_csrf=abc%3D123; x=y' });
    const fetchMock = stubFetch(json({ id: 'd1' }, 202));

    const result = await apiFetch<{ id: string }>('/apps/qubot-one/environments/staging/promote', {
      method: 'POST',
      body: { reason: 'ship it' },
    });

    expect(result).toEqual({ id: 'd1' });
    const [url, init] = fetchMock.mock.calls[0]!;
    expect(url).toBe('/api/v1/apps/qubot-one/environments/staging/promote');
    expect(init.method).toBe('POST');
    expect(init.body).toBe(JSON.stringify({ reason: 'ship it' }));
    const headers = new Headers(init.headers);
    expect(headers.get('content-type')).toBe('application/json');
    expect(headers.get('x-csrf-token')).toBe('abc=123');
    expect(headers.get('idempotency-key')).toMatch(/^[0-9a-f-]{32,36}$/);
  });

  it('omits the CSRF header when the cookie is absent', async () => {
    vi.stubGlobal('document', { cookie: 'session=1' });
    const fetchMock = stubFetch(json({}, 200));
    await apiFetch('/deployments/1/pause', { method: 'POST', body: {} });
    expect(new Headers(fetchMock.mock.calls[0]![1].headers).has('x-csrf-token')).toBe(false);
  });

  it('turns the error envelope into a typed ApiError', async () => {
    stubFetch(
      json(
        {
          error: {
            code: 'DEPLOYMENT_ACTIVE',
            message: 'staging already has an active deployment',
            details: { id: 'd9' },
          },
          requestId: 'req-42',
        },
        409,
      ),
    );

    const error = await apiFetch('/apps/qubot-one/environments/staging/deployments', {
      method: 'POST',
      body: { version: '1.0.0', strategy: 'rolling' },
    }).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ApiError);
    const apiError = error as ApiError;
    expect(apiError.status).toBe(409);
    expect(apiError.code).toBe('DEPLOYMENT_ACTIVE');
    expect(apiError.message).toBe('staging already has an active deployment');
    expect(apiError.details).toEqual({ id: 'd9' });
    expect(apiError.requestId).toBe('req-42');
    expect(errorMessage(apiError)).toBe('staging already has an active deployment');
  });

  it('turns a non-JSON failure into an ApiError with the status', async () => {
    stubFetch(
      new Response('<html>Bad gateway</html>', {
        status: 502,
        statusText: 'Bad Gateway',
        headers: { 'content-type': 'text/html', 'x-request-id': 'r-7' },
      }),
    );

    const error = (await apiFetch('/apps').catch((e: unknown) => e)) as ApiError;

    expect(error).toBeInstanceOf(ApiError);
    expect(error.status).toBe(502);
    expect(error.code).toBe('server_error');
    expect(error.message).toMatch(/unavailable/);
    expect(error.requestId).toBe('r-7');
  });

  it('treats JSON that is not an envelope as a plain HTTP error', async () => {
    stubFetch(json({ message: 'nope' }, 404));
    const error = (await apiFetch('/apps/missing').catch((e: unknown) => e)) as ApiError;
    expect(error).toBeInstanceOf(ApiError);
    expect(error.status).toBe(404);
    expect(error.code).toBe('http_error');
  });

  it('rejects a 200 that is not JSON', async () => {
    stubFetch(new Response('<!doctype html>', { status: 200, headers: { 'content-type': 'text/html' } }));
    const error = (await apiFetch('/apps').catch((e: unknown) => e)) as ApiError;
    expect(error).toBeInstanceOf(ApiError);
    expect(error.code).toBe('invalid_response');
  });

  it('turns a network failure into an ApiError with status 0', async () => {
    stubFetch(() => Promise.reject(new TypeError('fetch failed')));
    const error = (await apiFetch('/apps').catch((e: unknown) => e)) as ApiError;
    expect(error).toBeInstanceOf(ApiError);
    expect(error.status).toBe(0);
    expect(error.code).toBe('network_error');
  });

  it('lets aborts through untouched', async () => {
    stubFetch(() => Promise.reject(new DOMException('aborted', 'AbortError')));
    const error = await apiFetch('/apps').catch((e: unknown) => e);
    expect(error).not.toBeInstanceOf(ApiError);
    expect((error as DOMException).name).toBe('AbortError');
  });

  it('returns undefined for 204', async () => {
    stubFetch(new Response(null, { status: 204 }));
    await expect(apiFetch('/auth/logout', { method: 'POST' })).resolves.toBeUndefined();
  });
});

describe('buildUrl', () => {
  it('prefixes the API base, keeps absolute API paths and drops empty query values', () => {
    expect(buildUrl('/deployments', { app: 'qubot-one', env: undefined, status: '', cursor: null })).toBe(
      '/api/v1/deployments?app=qubot-one',
    );
    expect(buildUrl('/api/openapi.json')).toBe('/api/openapi.json');
    expect(buildUrl('/deployments', { env: 'a b' })).toBe('/api/v1/deployments?env=a+b');
  });
});

describe('readCookie', () => {
  it('finds a cookie by exact name', () => {
    expect(readCookie('qubot_csrf', 'xqubot_csrf=no; qubot_csrf=yes')).toBe('yes');
    expect(readCookie('qubot_csrf', '')).toBeNull();
    expect(readCookie('qubot_csrf', undefined)).toBeNull();
  });
});
