/**
 * The one error type the backend throws on purpose. Domain code and adapters pick a code; the HTTP
 * layer maps it to a status and the DESIGN §2 body `{"error":{"code","message"}}`.
 */
export const ERROR_STATUS = {
  bad_request: 400,
  bad_query: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  too_large: 413,
  insufficient_history: 422,
  rate_limited: 429,
  internal: 500,
  upstream_error: 502,
  not_ready: 503,
  upstream_timeout: 504,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

export class PrescalerError extends Error {
  readonly code: ErrorCode;
  readonly details?: unknown;

  constructor(code: ErrorCode, message: string, details?: unknown) {
    super(message);
    this.name = 'PrescalerError';
    this.code = code;
    this.details = details;
  }

  get status(): number {
    return ERROR_STATUS[this.code];
  }
}
