import { randomUUID } from 'node:crypto';
import type { ErrorEnvelope } from '@qubot/api-contract';
import type { Credential } from './config.ts';
import { ApiError, NetworkError } from './exit-utils.ts';

export const API_PREFIX = '/api/v1';
export const SESSION_COOKIE = 'qubot_session';
export const CSRF_COOKIE = 'qubot_csrf';

export type Query = Record<string, string | number | boolean | undefined | null>;

export interface ClientOptions {
  /** Base URL without a trailing slash, e.g. http://127.0.0.1:8080. */
  server: string;
  credential: Credential | null;
  /** Sent on every POST of this invocation, so a retried request is applied once. */
  idempotencyKey: string;
  /** Extra attempts after a network error or a 502/503/504 (default 2). */
  retries?: number;
  /** Per-attempt timeout in ms (default 30 s). */
  timeoutMs?: number;
  fetch?: typeof fetch;
  sleep?: (ms: number) => Promise<void>;
}

export interface ApiResponse<T> {
  status: number;
  data: T;
  requestId: string | null;
  headers: Headers;
}

const RETRY_STATUSES = new Set([502, 503, 504]);

export function buildUrl(server: string, path: string, query?: Query): string {
  const url = new URL(`${server}${path.startsWith('/api/') ? '' : API_PREFIX}${path}`);
  for (const [key, value] of Object.entries(query ?? {})) {
    if (value === undefined || value === null || value === '') continue;
    url.searchParams.append(key, String(value));
  }
  return url.toString();
}

/** Headers that carry the caller's identity: a bearer token, or the session cookie (+ CSRF on mutations). */
export function authHeaders(credential: Credential | null, method: string): Record<string, string> {
  if (!credential) return {};
  if (credential.kind === 'token') return { authorization: `Bearer ${credential.token}` };
  const headers: Record<string, string> = {
    cookie: `${SESSION_COOKIE}=${credential.session}; ${CSRF_COOKIE}=${credential.csrf}`,
  };
  if (!['GET', 'HEAD', 'OPTIONS'].includes(method)) headers['x-csrf-token'] = credential.csrf;
  return headers;
}

function isEnvelope(value: unknown): value is ErrorEnvelope {
  const error = (value as { error?: unknown } | null)?.error as
    | { code?: unknown; message?: unknown }
    | undefined;
  return typeof error?.code === 'string' && typeof error.message === 'string';
}

/** Builds the typed error for a non-2xx answer, preferring the server's envelope. */
export function errorFromResponse(status: number, body: unknown, headerRequestId: string | null): ApiError {
  if (isEnvelope(body)) {
    const requestId = (body as { requestId?: unknown }).requestId;
    return new ApiError({
      status,
      code: body.error.code,
      message: body.error.message,
      details: body.error.details,
      requestId: typeof requestId === 'string' ? requestId : headerRequestId,
    });
  }
  const unavailable = RETRY_STATUSES.has(status);
  return new ApiError({
    status,
    code: unavailable ? 'unavailable' : 'http_error',
    message: unavailable
      ? `the server is unavailable (HTTP ${status})`
      : `request failed with HTTP ${status}`,
    requestId: headerRequestId,
  });
}

export function createClient(opts: ClientOptions) {
  const doFetch = opts.fetch ?? fetch;
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const retries = opts.retries ?? 2;
  const timeoutMs = opts.timeoutMs ?? 30_000;

  async function request<T>(
    method: 'GET' | 'POST' | 'DELETE',
    path: string,
    init: { body?: unknown; query?: Query; credential?: Credential | null } = {},
  ): Promise<ApiResponse<T>> {
    const url = buildUrl(opts.server, path, init.query);
    const headers: Record<string, string> = {
      accept: 'application/json',
      'user-agent': 'qubot-cli',
      ...authHeaders(init.credential === undefined ? opts.credential : init.credential, method),
    };
    if (init.body !== undefined) headers['content-type'] = 'application/json';
    if (method === 'POST') headers['idempotency-key'] = opts.idempotencyKey;

    for (let attempt = 0; ; attempt++) {
      // One id per attempt, so each try can be found in the server's log.
      headers['x-request-id'] = `cli-${randomUUID()}`;
      let res: Response;
      try {
        res = await doFetch(url, {
          method,
          headers,
          body: init.body === undefined ? undefined : JSON.stringify(init.body),
          signal: AbortSignal.timeout(timeoutMs),
          redirect: 'manual',
        });
      } catch (err) {
        if (attempt < retries) {
          await sleep(500 * 2 ** attempt);
          continue;
        }
        throw new NetworkError(`cannot reach ${opts.server}: ${describeFetchError(err)}`);
      }
      const requestId = res.headers.get('x-request-id');
      const text = await res.text();
      let body: unknown;
      try {
        body = text === '' ? undefined : JSON.parse(text);
      } catch {
        body = undefined;
      }
      if (res.ok) {
        if (text !== '' && body === undefined)
          throw new ApiError({
            status: res.status,
            code: 'invalid_response',
            message: `${url} did not answer with JSON; is --server pointing at Qubot Deploy?`,
            requestId,
          });
        return { status: res.status, data: body as T, requestId, headers: res.headers };
      }
      if ((RETRY_STATUSES.has(res.status) || stillInProgress(res.status, body)) && attempt < retries) {
        await sleep(500 * 2 ** attempt);
        continue;
      }
      throw errorFromResponse(res.status, body, requestId);
    }
  }

  return {
    server: opts.server,
    credential: opts.credential,
    request,
    get: <T>(path: string, query?: Query) => request<T>('GET', path, { query }).then((r) => r.data),
    post: <T>(path: string, body: unknown = {}) => request<T>('POST', path, { body }),
  };
}
export type Client = ReturnType<typeof createClient>;

/** The first try of this key is still being handled (it was cut off on our side): wait and ask again. */
function stillInProgress(status: number, body: unknown): boolean {
  if (status !== 409 || !isEnvelope(body)) return false;
  return (body.error.details as { reason?: unknown } | undefined)?.reason === 'idempotency_in_progress';
}

function describeFetchError(err: unknown): string {
  const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e?.name === 'TimeoutError') return 'request timed out';
  return e?.cause?.code ?? e?.cause?.message ?? e?.message ?? String(err);
}
