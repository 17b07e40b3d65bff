/** The one error type services throw; the error handler turns it into the envelope of DESIGN §6. */
export const ErrorCode = {
  BadRequest: 'bad_request',
  ValidationFailed: 'validation_failed',
  Unauthenticated: 'unauthenticated',
  Forbidden: 'forbidden',
  NotFound: 'not_found',
  Conflict: 'conflict',
  /** A freeze window blocks new deployments (409); an admin may override with a reason. */
  Frozen: 'environment_frozen',
  PayloadTooLarge: 'payload_too_large',
  RateLimited: 'rate_limited',
  Unavailable: 'unavailable',
  /** A server this one depends on (S3-compatible backup storage) refused or failed the request (502). */
  BadGateway: 'bad_gateway',
  Internal: 'internal',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

const STATUS: Record<ErrorCode, number> = {
  bad_request: 400,
  validation_failed: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  environment_frozen: 409,
  payload_too_large: 413,
  rate_limited: 429,
  unavailable: 503,
  bad_gateway: 502,
  internal: 500,
};

export class AppError extends Error {
  readonly statusCode: number;
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.statusCode = STATUS[code];
  }

  static notFound(what: string, details?: Record<string, unknown>) {
    return new AppError(ErrorCode.NotFound, `${what} not found`, details);
  }
  static badField(field: string, message: string) {
    return new AppError(ErrorCode.ValidationFailed, `${field}: ${message}`, { field });
  }
  static conflict(message: string, details?: Record<string, unknown>) {
    return new AppError(ErrorCode.Conflict, message, details);
  }
}
