// The dashboard's calls go through @qubot/client (one fetch wrapper and one ApiError for the web
// app, the CLI, the e2e helpers and the benchmarks). Here it is set up for the browser: same
// origin, the session cookie travels by itself, mutations echo the CSRF cookie.
import {
  buildUrl as buildApiUrl,
  CSRF_COOKIE,
  createHttpClient,
  type Method,
  type Query,
  readCookie,
} from '@qubot/client';

export { ApiError, errorMessage, isApiError, toApiError } from '@qubot/client';

const http = createHttpClient({ csrfToken: () => readCookie(CSRF_COOKIE, globalThis.document?.cookie) });

export interface ApiRequestInit {
  /** Default: GET, or POST when there is a body. */
  method?: string;
  /** Serialised as JSON. */
  body?: unknown;
  /** Appended as a query string; null/undefined/'' values are left out. */
  query?: Query;
  headers?: Record<string, string>;
  signal?: AbortSignal | null;
  /** Sent as `Idempotency-Key` on POST; one is generated when absent. */
  idempotencyKey?: string;
}

export function apiFetch<T>(path: string, init: ApiRequestInit = {}): Promise<T> {
  const { method, ...rest } = init;
  const verb = (method ?? (init.body === undefined ? 'GET' : 'POST')).toUpperCase() as Method;
  return http.request<T>(verb, path, rest).then((r) => r.data);
}

/** A same-origin URL under /api/v1 (downloads, streamed reads). */
export const buildUrl = (path: string, query?: Query): string => buildApiUrl('', path, query);
