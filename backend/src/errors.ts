/**
 * The one error type the backend throws on purpose. Domain code and adapters pick a code; the HTTP
 * layer maps it to a status and the docs/api.md body `{"error":{"code","message"}}`.
 */
import type { ErrorCode } from './contract/api';

/** The codes are the contract's (contract/api.ts ErrorCode); each has its status here, every one of them. */
export type { ErrorCode };

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
} as const satisfies Record<ErrorCode, number>;

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

/** Characters of a client's input an error message quotes; the rest is cut (a query may be a megabyte). */
export const ECHO_MAX = 200;

/** The longest error message the API sends. */
export const MESSAGE_MAX = 2000;

/** `text` cut to `max` characters with an ellipsis and the length it had, for quoting input in a message. */
export function echo(text: string, max = ECHO_MAX): string {
  if (text.length <= max) return text;
  let cut = text.slice(0, max);
  // Not half a surrogate pair: the message must stay valid UTF-16.
  if (/[\uD800-\uDBFF]$/.test(cut)) cut = cut.slice(0, -1);
  return `${cut}… (${text.length} characters)`;
}

/** Input quoted as a JSON string, cut as `echo` cuts it. */
export function quoted(text: string, max = ECHO_MAX): string {
  if (text.length <= max) return JSON.stringify(text);
  const cut = echo(text, max);
  const at = cut.lastIndexOf('… (');
  return `${JSON.stringify(cut.slice(0, at))}${cut.slice(at)}`;
}
