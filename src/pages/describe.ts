// Load failures and backend values in words for the root page (pure).
import { DecodedError } from '../shared/contract';

/** What went wrong, as the backend or Grafana's proxy said it: `502 upstream_error: …`. */
export function errorText(e: DecodedError): string {
  return `${e.status ? `${e.status} ` : ''}${e.code ? `${e.code}: ` : ''}${e.message}`;
}

/**
 * What to do about it. A body with a code comes from the backend itself; without one it is Grafana's proxy
 * speaking, and a 502 then means the backend could not be reached at all.
 */
export function errorHint(e: DecodedError): string {
  if (e.status === undefined) {
    return 'The request did not reach Grafana: check your network connection.';
  }
  if (e.status === 401 || e.status === 403) {
    return "The request was refused: check your role and the app's API token on the configuration page.";
  }
  if (e.status === 404) {
    return e.code
      ? 'The backend does not know this endpoint: is it an older version?'
      : 'Grafana found no route to the backend: is the app enabled and are its settings saved?';
  }
  if (e.status === 503) {
    return 'The backend is running but not ready (a model failed to load): its /api/health says which.';
  }
  if (e.status === 504) {
    return 'The backend, or the Prometheus behind it, did not answer in time.';
  }
  if (e.status === 502 && !e.code) {
    return 'Grafana could not reach the Prescaler backend: is it running, and is the backend URL on the configuration page reachable from the Grafana server?';
  }
  return e.status >= 500 ? 'The backend failed to answer; its log says why.' : '';
}

export function formatReplicaChange(from: number, to: number): string {
  const delta = to - from;
  return `${from} → ${to} (${delta > 0 ? `+${delta}` : delta})`;
}

/** Scores and demands: two decimals are what the reasons and alert rules speak in. */
export function formatNumber(value: number | null | undefined, digits = 2): string {
  return typeof value === 'number' && Number.isFinite(value) ? value.toFixed(digits) : '—';
}
