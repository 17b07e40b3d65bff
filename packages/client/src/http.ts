import { type BackoffPolicy, backoffDelay } from '@qubot/core';
import { ApiError, errorFromResponse, isEnvelope, UNAVAILABLE_STATUSES } from './errors.ts';

export const API_PREFIX = '/api/v1';
export const SESSION_COOKIE = 'qubot_session';
export const CSRF_COOKIE = 'qubot_csrf';
export const CSRF_HEADER = 'x-csrf-token';
export const IDEMPOTENCY_HEADER = 'idempotency-key';

/** A bearer API token, or a signed-in session (its cookie plus the CSRF token mutations echo). */
export type Credential =
  | { kind: 'token'; token: string }
  | { kind: 'session'; session: string; csrf: string; username?: string };

export type QueryValue = string | number | boolean | null | undefined;
export type Query = Record<string, QueryValue>;
export type Method = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface HttpClientOptions {
  /** Origin and base path, e.g. `http://127.0.0.1:8080`; empty (the default) for same-origin. */
  baseUrl?: string;
  /** Outside a browser: the caller's identity. In a browser the cookies travel by themselves. */
  credential?: Credential | null;
  /** In a browser: the CSRF token to echo on mutations (the web app reads it from its cookie). */
  csrfToken?: () => string | null | undefined;
  /** Sent on every POST of this client, so a retried request is applied once; default: one per request. */
  idempotencyKey?: string;
  /** Extra attempts after a network error, a 502/503/504 or a request still in progress (default 0). */
  retries?: number;
  retryBackoff?: BackoffPolicy;
  /** Per-attempt timeout in ms (default: none). */
  timeoutMs?: number;
  /** Headers for every request (user-agent, …). */
  headers?: Record<string, string>;
  /** A fresh `x-request-id` per attempt, so each try can be found in the server's log. */
  requestId?: () => string;
  fetch?: typeof fetch;
  sleep?: (ms: number) => Promise<void>;
}

export interface RequestOptions {
  /** Serialised as JSON. */
  body?: unknown;
  /** Appended as a query string; null/undefined/'' values are left out. */
  query?: Query;
  headers?: Record<string, string>;
  signal?: AbortSignal | null;
  /** Overrides the client's key for this request. */
  idempotencyKey?: string;
  /** Overrides the client's credential for this request (`null`: anonymous). */
  credential?: Credential | null;
}

export interface ApiResponse<T> {
  status: number;
  data: T;
  requestId: string | null;
  headers: Headers;
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** `path` under /api/v1 (unless it already names /api/… or /healthz-style root paths with `/`-less base). */
export function buildUrl(baseUrl: string, path: string, query?: Query): string {
  const prefixed = path.startsWith('/api/') ? path : `${API_PREFIX}${path.startsWith('/') ? '' : '/'}${path}`;
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query ?? {})) {
    if (value === undefined || value === null || value === '') continue;
    params.append(key, String(value));
  }
  const qs = params.toString();
  const url = `${baseUrl.replace(/\/$/, '')}${prefixed}`;
  return qs ? `${url}${url.includes('?') ? '&' : '?'}${qs}` : url;
}

/** Headers that carry a credential: a bearer token, or the session cookie (+ CSRF on mutations). */
export function authHeaders(
  credential: Credential | null | undefined,
  method: string,
): Record<string, string> {
  if (!credential) return {};
  if (credential.kind === 'token') return { authorization: `Bearer ${credential.token}` };
  const headers: Record<string, string> = {
    cookie: `${SESSION_COOKIE}=${credential.session}; ${CSRF_COOKIE}=${credential.csrf}`,
  };
  if (!SAFE_METHODS.has(method)) headers[CSRF_HEADER] = credential.csrf;
  return headers;
}

/** The value of cookie `name` in a `Cookie` header (or `document.cookie`). */
export function readCookie(name: string, cookieHeader: string | undefined | null): string | null {
  if (!cookieHeader) return null;
  for (const part of cookieHeader.split(';')) {
    const eq = part.indexOf('=');
    if (eq === -1 || part.slice(0, eq).trim() !== name) continue;
    const raw = part.slice(eq + 1).trim();
    try {
      return decodeURIComponent(raw);
    } catch {
      return raw;
    }
  }
  return null;
}

/** The value of cookie `name` among `Set-Cookie` headers. */
export function setCookieValue(setCookies: readonly string[], name: string): string | null {
  for (const c of setCookies) {
    const value = readCookie(name, c.split(';')[0]);
    if (value !== null) return value;
  }
  return null;
}

/** crypto.randomUUID only exists in secure contexts; the dashboard may be served over plain http on a LAN. */
export function newIdempotencyKey(): string {
  const c = globalThis.crypto;
  if (typeof c?.randomUUID === 'function') return c.randomUUID();
  const bytes = new Uint8Array(16);
  c.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

function describeFetchError(err: unknown): string {
  const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e?.name === 'TimeoutError') return 'request timed out';
  return e?.cause?.code ?? e?.cause?.message ?? e?.message ?? String(err);
}

/** The first try of this key is still being handled (it was cut off on our side): wait and ask again. */
function stillInProgress(status: number, body: unknown): boolean {
  if (status !== 409 || !isEnvelope(body)) return false;
  return (body.error.details as { reason?: unknown } | undefined)?.reason === 'idempotency_in_progress';
}

const parseJson = (text: string): unknown => {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
};

/**
 * The one fetch wrapper of the web app, the CLI, the e2e helpers and the benchmarks: JSON in and
 * out, credentials and CSRF, idempotency keys on POST, optional retries with back-off, and every
 * failure as one `ApiError` (status 0 with code `network_error` when the server cannot be reached).
 */
export function createHttpClient(opts: HttpClientOptions = {}) {
  const baseUrl = opts.baseUrl ?? '';
  const doFetch = opts.fetch ?? ((...args: Parameters<typeof fetch>) => globalThis.fetch(...args));
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const retries = opts.retries ?? 0;
  const retryBackoff = opts.retryBackoff ?? { baseMs: 500, maxMs: 10_000 };

  async function request<T>(
    method: Method,
    path: string,
    init: RequestOptions = {},
  ): Promise<ApiResponse<T>> {
    const url = buildUrl(baseUrl, path, init.query);
    const credential = init.credential === undefined ? opts.credential : init.credential;
    const headers: Record<string, string> = {
      accept: 'application/json',
      ...opts.headers,
      ...authHeaders(credential, method),
      ...init.headers,
    };
    if (init.body !== undefined) headers['content-type'] = 'application/json';
    if (!SAFE_METHODS.has(method)) {
      const csrf = opts.csrfToken?.();
      if (csrf && !headers[CSRF_HEADER]) headers[CSRF_HEADER] = csrf;
      if (method === 'POST')
        headers[IDEMPOTENCY_HEADER] ??= init.idempotencyKey ?? opts.idempotencyKey ?? newIdempotencyKey();
    }
    const body = init.body === undefined ? undefined : JSON.stringify(init.body);

    for (let attempt = 0; ; attempt++) {
      if (opts.requestId) headers['x-request-id'] = opts.requestId();
      const signals = [init.signal, opts.timeoutMs ? AbortSignal.timeout(opts.timeoutMs) : undefined].filter(
        (s): s is AbortSignal => s !== undefined && s !== null,
      );
      let res: Response;
      try {
        res = await doFetch(url, {
          method,
          headers,
          body,
          credentials: 'same-origin',
          ...(signals.length > 0
            ? { signal: signals.length === 1 ? signals[0] : AbortSignal.any(signals) }
            : {}),
        });
      } catch (err) {
        // Cancellation is not a failure: TanStack Query relies on seeing the AbortError.
        if (init.signal?.aborted) throw err;
        if (attempt < retries) {
          await sleep(backoffDelay(attempt, retryBackoff));
          continue;
        }
        throw new ApiError({
          status: 0,
          code: 'network_error',
          message: baseUrl
            ? `cannot reach ${baseUrl}: ${describeFetchError(err)}`
            : 'Cannot reach the Qubot Deploy server. Check your connection and try again.',
          details: describeFetchError(err),
        });
      }
      const requestId = res.headers.get('x-request-id');
      const text = method === 'HEAD' ? '' : await res.text();
      const data = text === '' ? undefined : parseJson(text);
      if (res.ok) {
        if (text !== '' && data === undefined)
          throw new ApiError({
            status: res.status,
            code: 'invalid_response',
            message: `${url} did not answer with JSON; is ${baseUrl || 'the address'} pointing at Qubot Deploy?`,
            requestId,
          });
        return { status: res.status, data: data as T, requestId, headers: res.headers };
      }
      if ((UNAVAILABLE_STATUSES.has(res.status) || stillInProgress(res.status, data)) && attempt < retries) {
        await sleep(backoffDelay(attempt, retryBackoff));
        continue;
      }
      throw errorFromResponse(res.status, data, requestId, res.statusText);
    }
  }

  const data = <T>(method: Method, path: string, init?: RequestOptions) =>
    request<T>(method, path, init).then((r) => r.data);

  return {
    baseUrl,
    credential: opts.credential ?? null,
    request,
    get: <T>(path: string, query?: Query, init?: RequestOptions) => data<T>('GET', path, { ...init, query }),
    post: <T>(path: string, body: unknown = {}, init?: RequestOptions) =>
      data<T>('POST', path, { ...init, body }),
    put: <T>(path: string, body: unknown, init?: RequestOptions) => data<T>('PUT', path, { ...init, body }),
    patch: <T>(path: string, body: unknown, init?: RequestOptions) =>
      data<T>('PATCH', path, { ...init, body }),
    delete: <T>(path: string, init?: RequestOptions) => data<T>('DELETE', path, init),
  };
}
export type HttpClient = ReturnType<typeof createHttpClient>;
