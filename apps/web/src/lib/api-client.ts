import type { ErrorEnvelope } from '@qubot/api-contract';

export const API_BASE = '/api/v1';
export const CSRF_COOKIE = 'qubot_csrf';
export const CSRF_HEADER = 'X-CSRF-Token';

/** Every failure of `apiFetch` is one of these, so screens can always show `message`. */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  readonly status: number;
  readonly code: string;
  readonly details: unknown;
  readonly requestId: string | null;

  constructor(init: {
    status: number;
    code: string;
    message: string;
    details?: unknown;
    requestId?: string | null;
  }) {
    super(init.message);
    this.status = init.status;
    this.code = init.code;
    this.details = init.details;
    this.requestId = init.requestId ?? null;
  }
}

export function isApiError(value: unknown): value is ApiError {
  return value instanceof ApiError;
}

/** A message fit for the screen, whatever was thrown. */
export function errorMessage(error: unknown): string {
  if (error instanceof ApiError) return error.message;
  if (error instanceof Error && error.message) return error.message;
  return 'Something went wrong.';
}

export type QueryValue = string | number | boolean | null | undefined;

export interface ApiRequestInit extends Omit<RequestInit, 'body'> {
  /** Serialised as JSON. */
  body?: unknown;
  /** Appended as a query string; null/undefined/'' values are left out. */
  query?: Record<string, QueryValue>;
  /** Sent as `Idempotency-Key` on mutations; one is generated when absent. */
  idempotencyKey?: string;
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export function readCookie(name: string, cookieHeader: string | undefined | null): string | null {
  if (!cookieHeader) return null;
  for (const part of cookieHeader.split(';')) {
    const eq = part.indexOf('=');
    if (eq === -1) continue;
    if (part.slice(0, eq).trim() !== name) continue;
    const raw = part.slice(eq + 1).trim();
    try {
      return decodeURIComponent(raw);
    } catch {
      return raw;
    }
  }
  return null;
}

export function buildUrl(path: string, query?: Record<string, QueryValue>): string {
  const base = path.startsWith('/api/') ? path : `${API_BASE}${path.startsWith('/') ? '' : '/'}${path}`;
  if (!query) return base;
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined || value === null || value === '') continue;
    params.append(key, String(value));
  }
  const qs = params.toString();
  return qs ? `${base}${base.includes('?') ? '&' : '?'}${qs}` : base;
}

/** crypto.randomUUID only exists in secure contexts; the dashboard may be served over plain http on a LAN. */
export function newIdempotencyKey(): string {
  const c = globalThis.crypto;
  if (typeof c?.randomUUID === 'function') return c.randomUUID();
  const bytes = new Uint8Array(16);
  c.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

function isEnvelope(value: unknown): value is ErrorEnvelope {
  if (typeof value !== 'object' || value === null) return false;
  const error = (value as { error?: unknown }).error;
  if (typeof error !== 'object' || error === null) return false;
  const { code, message } = error as { code?: unknown; message?: unknown };
  return typeof code === 'string' && typeof message === 'string';
}

function isJson(response: Response): boolean {
  const type = response.headers.get('content-type') ?? '';
  return /[/+]json\b/i.test(type);
}

function statusMessage(response: Response): string {
  if (response.status === 502 || response.status === 503 || response.status === 504) {
    return `The server is unavailable (HTTP ${response.status}). Try again in a moment.`;
  }
  const text = response.statusText ? ` ${response.statusText}` : '';
  return `Request failed with HTTP ${response.status}${text}.`;
}

/** Turns a non-2xx response into an ApiError, preferring the server's envelope. */
export async function toApiError(response: Response): Promise<ApiError> {
  const headerRequestId = response.headers.get('x-request-id');
  let body: unknown;
  if (isJson(response)) {
    try {
      body = await response.json();
    } catch {
      body = undefined;
    }
  }
  if (isEnvelope(body)) {
    return new ApiError({
      status: response.status,
      code: body.error.code,
      message: body.error.message,
      details: body.error.details,
      requestId: typeof body.requestId === 'string' ? body.requestId : headerRequestId,
    });
  }
  return new ApiError({
    status: response.status,
    code: response.status >= 500 ? 'server_error' : 'http_error',
    message: statusMessage(response),
    details: body,
    requestId: headerRequestId,
  });
}

export async function apiFetch<T>(path: string, init: ApiRequestInit = {}): Promise<T> {
  const { body, query, idempotencyKey, headers: extraHeaders, ...rest } = init;
  const method = (rest.method ?? (body === undefined ? 'GET' : 'POST')).toUpperCase();
  const headers = new Headers(extraHeaders);
  headers.set('Accept', 'application/json');
  if (body !== undefined) headers.set('Content-Type', 'application/json');
  if (!SAFE_METHODS.has(method)) {
    const csrf = readCookie(CSRF_COOKIE, globalThis.document?.cookie);
    if (csrf) headers.set(CSRF_HEADER, csrf);
    if (method === 'POST' && !headers.has('Idempotency-Key')) {
      headers.set('Idempotency-Key', idempotencyKey ?? newIdempotencyKey());
    }
  }

  let response: Response;
  try {
    response = await fetch(buildUrl(path, query), {
      ...rest,
      method,
      headers,
      credentials: 'same-origin',
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (error) {
    // Cancellation is not a failure: TanStack Query relies on seeing the AbortError.
    if (error instanceof DOMException && error.name === 'AbortError') throw error;
    throw new ApiError({
      status: 0,
      code: 'network_error',
      message: 'Cannot reach the Qubot Deploy server. Check your connection and try again.',
      details: error instanceof Error ? error.message : undefined,
    });
  }

  if (!response.ok) throw await toApiError(response);
  if (response.status === 204 || method === 'HEAD') return undefined as T;

  const text = await response.text();
  if (text === '') return undefined as T;
  if (!isJson(response)) {
    throw new ApiError({
      status: response.status,
      code: 'invalid_response',
      message: 'The server sent an unexpected response (not JSON).',
      requestId: response.headers.get('x-request-id'),
    });
  }
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new ApiError({
      status: response.status,
      code: 'invalid_response',
      message: 'The server sent malformed JSON.',
      requestId: response.headers.get('x-request-id'),
    });
  }
}
