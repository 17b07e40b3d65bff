// The dashboard's calls go through @qubot/client (one fetch wrapper and one ApiError for the web
// app, the CLI, the e2e helpers and the benchmarks). Here it is set up for the browser: same
// origin, the session cookie travels by itself, mutations echo the CSRF cookie.
import { CSRF_COOKIE, createApi, createHttpClient, readCookie } from '@qubot/client';

export { ApiError, errorMessage, isApiError, toApiError } from '@qubot/client';

/**
 * Typed by the route table: `api.call('GET /api/v1/apps/:app/environments', { params: { app } })`.
 * `api.url(…)` gives the same-origin address of a route read otherwise (downloads, streams).
 */
export const api = createApi(
  createHttpClient({ csrfToken: () => readCookie(CSRF_COOKIE, globalThis.document?.cookie) }),
);
