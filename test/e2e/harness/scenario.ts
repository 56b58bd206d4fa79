// The e2e suite's data setup, shared by the browser cases (panel.e2e.test.ts) and the check that it holds at
// other instants (clock.e2e.test.ts): what the demo backend holds at the suite's clock and what the cases
// expect of it.
import type { InjectAnomalyOptions } from '../../../backend/src/sources/demo';
import { DEFAULT_STEP } from '../../../backend/src/http/validate';

const HOUR_S = 3600;
const HOUR_MS = HOUR_S * 1000;
const STEP_MS = DEFAULT_STEP * 1000; // the data source's default step, equal to the backend's

/** The panel's query and the deployment it draws. */
export const PANEL_QUERY = 'demo_cpu_usage{deployment="web"}';

/**
 * A load spike on `web` three hours before now, twenty minutes long: the anomaly the panel must mark. The demo's
 * own schedule (0.3 anomalies a day) leaves some weeks without one, so the suite brings its own; three hours,
 * not more, so that an anomaly of the demo's own the night before is less likely to damp it (the detector's
 * 12 h onsetSeconds).
 */
export function scenarioAnomalies(nowS: number): InjectAnomalyOptions[] {
  const start = Math.floor((nowS - 3 * HOUR_S) / 60) * 60;
  return [{ deployment: 'web', kind: 'spike', start, end: start + 20 * 60 }];
}

export interface Answer<T> {
  status: number;
  body: T;
}

export async function backendJson<T>(
  baseUrl: string,
  method: string,
  p: string,
  body?: unknown,
  token?: string
): Promise<Answer<T>> {
  const res = await fetch(`${baseUrl}${p}`, {
    method,
    headers: { 'Content-Type': 'application/json', ...(token ? { Authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // keep text
  }
  return { status: res.status, body: parsed as T };
}

export interface AnomaliesAnswer {
  series: Array<{ labels: Record<string, string>; anomalies: Array<[number, number, number]> }>;
}

export interface ForecastAnswer {
  series: Array<{
    labels: Record<string, string>;
    actual: Array<[number, number]>;
    forecast: Array<[number, number, number, number]>;
  }>;
}

export interface PanelRange {
  from: number;
  to: number;
  /** Anomalies the backend finds for PANEL_QUERY over exactly [from, to]: the markers the panel must draw. */
  expectedAnomalies: number;
  /** Unix ms of the latest of them (NaN when none). */
  latestAnomaly: number;
}

/**
 * The range the panel case queries at `nowMs`: the last two days (the detector needs ~32 h of history inside
 * the queried range before it scores a point), reaching back further if that is what it takes to include the
 * latest anomaly of the past week; `from` on the data source's step grid, as the data source sends it.
 */
export async function panelRange(baseUrl: string, token: string, nowMs: number): Promise<PanelRange> {
  const to = nowMs;
  const probe = await backendJson<AnomaliesAnswer>(
    baseUrl,
    'POST',
    '/api/anomalies',
    { query: PANEL_QUERY, start: Math.floor((to - 7 * 24 * HOUR_MS) / 1000), end: Math.floor(to / 1000) },
    token
  );
  if (probe.status !== 200) {
    throw new Error(
      `the backend's POST /api/anomalies answered ${probe.status}: ${JSON.stringify(probe.body)}`
    );
  }
  const latest = Math.max(...probe.body.series.flatMap((s) => s.anomalies.map((a) => a[0])));
  let from = Number.isFinite(latest) ? Math.min(to - 48 * HOUR_MS, latest - 2 * HOUR_MS) : to - 48 * HOUR_MS;
  // Start on the step grid, or the count below scores a slightly longer history than the panel's query.
  from = Math.floor(from / STEP_MS) * STEP_MS;
  // Scores depend on the queried range, so count over exactly the range the data source will send.
  const same = await backendJson<AnomaliesAnswer>(
    baseUrl,
    'POST',
    '/api/anomalies',
    { query: PANEL_QUERY, start: Math.floor(from / 1000), end: Math.floor(to / 1000) },
    token
  );
  if (same.status !== 200) {
    throw new Error(
      `the backend's POST /api/anomalies answered ${same.status}: ${JSON.stringify(same.body)}`
    );
  }
  const anomalies = same.body.series.flatMap((s) => s.anomalies);
  return {
    from,
    to,
    expectedAnomalies: anomalies.length,
    latestAnomaly: Math.max(...anomalies.map((a) => a[0])),
  };
}

export interface Recommendation {
  id: string;
  target: string;
  status: string;
  currentReplicas: number;
  recommendedReplicas: number;
  reason: string;
  /** Unix ms. */
  expiresAt: number;
}

/** Waits (up to ~20 s) for the evaluation loop's pending recommendation for `target`. */
export async function pendingRecommendation(
  baseUrl: string,
  token: string,
  target: string
): Promise<Recommendation | undefined> {
  for (let i = 0; i < 40; i++) {
    const recs = await backendJson<{ recommendations: Recommendation[] }>(
      baseUrl,
      'GET',
      '/api/recommendations?status=pending',
      undefined,
      token
    );
    if (recs.status !== 200) {
      throw new Error(`GET /api/recommendations answered ${recs.status}: ${JSON.stringify(recs.body)}`);
    }
    const found = recs.body.recommendations.find((r) => r.target === target);
    if (found) {
      return found;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  return undefined;
}
