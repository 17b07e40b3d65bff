import type { ErrorEnvelope } from '@qubot/api-contract';

/**
 * Every failure of a call through this package: the server's error envelope (DESIGN §6), or a
 * status-only error when there is none. `status` 0 means the server could not be reached.
 */
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

  /** The request field the server blamed (validation errors), e.g. `body.reason`. */
  get field(): string | null {
    const field = (this.details as { field?: unknown } | null | undefined)?.field;
    return typeof field === 'string' ? field : null;
  }
}

export function isApiError(value: unknown): value is ApiError {
  return value instanceof ApiError;
}

/** A message fit for a person, whatever was thrown. */
export function errorMessage(error: unknown): string {
  if (error instanceof ApiError) return error.message;
  if (error instanceof Error && error.message) return error.message;
  return 'Something went wrong.';
}

export function isEnvelope(value: unknown): value is ErrorEnvelope {
  const error = (value as { error?: unknown } | null)?.error as
    | { code?: unknown; message?: unknown }
    | null
    | undefined;
  return typeof error?.code === 'string' && typeof error.message === 'string';
}

/** Gateways and a server without its database answer these; a retry may succeed. */
export const UNAVAILABLE_STATUSES: ReadonlySet<number> = new Set([502, 503, 504]);

/** The error for a non-2xx answer, preferring the server's envelope. */
export function errorFromResponse(
  status: number,
  body: unknown,
  headerRequestId: string | null,
  statusText = '',
): ApiError {
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
  const unavailable = UNAVAILABLE_STATUSES.has(status);
  return new ApiError({
    status,
    code: unavailable ? 'unavailable' : status >= 500 ? 'server_error' : 'http_error',
    message: unavailable
      ? `The server is unavailable (HTTP ${status}). Try again in a moment.`
      : `Request failed with HTTP ${status}${statusText ? ` ${statusText}` : ''}.`,
    details: body,
    requestId: headerRequestId,
  });
}

/** The server refused because a freeze window is active (409 environment_frozen). */
export function isFreezeRefusal(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const e = error as { status?: unknown; code?: unknown };
  return e.status === 409 && e.code === 'environment_frozen';
}

/** The error for a non-2xx `Response` read by hand (streams, downloads), from its envelope when it has one. */
export async function toApiError(response: Response): Promise<ApiError> {
  let body: unknown;
  try {
    body = JSON.parse(await response.text());
  } catch {
    body = undefined;
  }
  return errorFromResponse(response.status, body, response.headers.get('x-request-id'), response.statusText);
}
