// The backend's HTTP contract (docs/api.md) as seen from the browser: the plugin's ids and proxy routes, the
// request and answer types (defined once, in backend/src/contract, and compiled by both builds) and error
// decoding. The rest of the app reaches the contract through this module.
import { isFetchError } from '@grafana/runtime';

import type { ApiError } from '../../backend/src/contract';

export const APP_ID = 'prescaler-autoscaling-app';
export const DATASOURCE_ID = 'prescaler-forecast-datasource';
export const PANEL_ID = 'prescaler-forecast-panel';

/** Base of the app's proxy routes (src/plugin.json); Grafana injects the token server-side. */
export const APP_PROXY_BASE = `api/plugin-proxy/${APP_ID}`;
/** Path prefix of the data source's proxy route (src/datasource/plugin.json). */
export const DATASOURCE_ROUTE = 'backend';

export * from '../../backend/src/contract';

export function isApiError(value: unknown): value is ApiError {
  const error = (value as ApiError | undefined)?.error;
  return typeof error === 'object' && error !== null && typeof error.message === 'string';
}

export interface DecodedError {
  status?: number;
  code?: string;
  message: string;
}

/**
 * Turns whatever the fetch pipeline threw into one readable message: the backend's own
 * `{error:{code,message}}`, Grafana's proxy errors (`{message}`), or a network failure.
 */
export function decodeError(err: unknown): DecodedError {
  if (isFetchError(err)) {
    const status = err.status;
    if (isApiError(err.data)) {
      return { status, code: err.data.error.code, message: err.data.error.message };
    }
    const proxyMessage = (err.data as { message?: unknown } | undefined)?.message;
    if (typeof proxyMessage === 'string' && proxyMessage) {
      return { status, message: proxyMessage };
    }
    // Grafana's data proxy answers some refusals in plain text (a 401 upstream becomes a 400 with
    // "Authentication to data source failed"); keep the first line of it.
    if (typeof err.data === 'string' && err.data.trim()) {
      return { status, message: err.data.trim().split('\n')[0].slice(0, 200) };
    }
    return { status, message: err.statusText || `HTTP ${status}` };
  }
  if (err instanceof Error) {
    return { message: err.message };
  }
  return { message: String(err) };
}
