// The backend's HTTP contract (DESIGN §2) as seen from the browser: response shapes and error decoding.
import { isFetchError } from '@grafana/runtime';

export const APP_ID = 'prescaler-autoscaling-app';
export const DATASOURCE_ID = 'prescaler-forecast-datasource';
export const PANEL_ID = 'prescaler-forecast-panel';

/** Base of the app's proxy routes (src/plugin.json); Grafana injects the token server-side. */
export const APP_PROXY_BASE = `api/plugin-proxy/${APP_ID}`;
/** Path prefix of the data source's proxy route (src/datasource/plugin.json). */
export const DATASOURCE_ROUTE = 'backend';

/** The step the backend uses when a request gives none (backend/src/http/validate.ts DEFAULT_STEP). */
export const DEFAULT_STEP_SECONDS = 600;

export type Labels = Record<string, string>;

export interface HealthResponse {
  status: string;
  source: 'prometheus' | 'demo' | string;
  models?: {
    forecaster?: { id: string; version: string | number } | null;
    anomaly?: { id: string; version: string | number } | null;
  };
  /** Present when status is degraded: what failed to load. */
  errors?: string[];
}

/** Times are Unix milliseconds. */
export interface ForecastSeries {
  labels: Labels;
  actual: Array<[number, number | null]>;
  forecast: Array<[number, number, number, number]>;
  model?: string | { id?: string; version?: string | number };
  /** Set when this series could not be forecast (e.g. too little history); the others still are. */
  warning?: string;
}

export interface ForecastResponse {
  series: ForecastSeries[];
}

export interface AnomalySeries {
  labels: Labels;
  scores: Array<[number, number | null]>;
  anomalies: Array<[number, number, number]>;
  /** null when the series had too little history to score. */
  threshold: number | null;
  warning?: string;
}

export interface AnomaliesResponse {
  series: AnomalySeries[];
}

export interface Recommendation {
  id: string;
  target: string;
  /** `forecast` from the evaluation loop, `emergency` from an alert. */
  kind?: 'forecast' | 'emergency' | string;
  currentReplicas: number;
  recommendedReplicas: number;
  reason: string;
  forecast?: unknown;
  /** Unix ms or RFC 3339, depending on how the backend renders it. */
  expiresAt: number | string;
  status: string;
  createdAt?: number | string;
  statusAt?: number | string;
}

export interface RecommendationsResponse {
  recommendations: Recommendation[];
}

export interface AuditRecord {
  id: string | number;
  at: number | string;
  actor: string;
  target: string;
  fromReplicas: number;
  toReplicas: number;
  recommendationId: string;
  outcome: string;
  dryRun: boolean;
  /** `apply`, or `revert-floor` when an HPA floor ran out. */
  action?: string;
  /** What was done or why it failed, in words. */
  detail?: string | null;
  finishedAt?: number | null;
  reconciled?: boolean;
}

export interface AuditResponse {
  records: AuditRecord[];
}

/** The last evaluation of a target (GET /api/targets), `at` in Unix ms. */
export interface TargetEvaluation {
  target: string;
  at: number;
  ok: boolean;
  error?: { reason: string; message: string };
  currentReplicas?: number;
  recommendedReplicas?: number;
  desiredReplicas?: number;
  /** The forecast's upper band at its highest within the lead time, in the target's own unit. */
  demand?: number;
  reason?: string;
  /** 0–1; null when the detector could not score the latest point. */
  anomalyScore?: number | null;
  recommendationId?: string;
}

export interface Target {
  name: string;
  namespace: string;
  workload: { kind: string; name: string };
  /** `scale` writes the scale subresource; `hpa-floor` raises an HPA's minReplicas for a while. */
  mode: 'scale' | 'hpa-floor' | string;
  query: string;
  /** What the query measures (e.g. `cores`), when the config names it. */
  unit?: string;
  capacityPerReplica: number;
  targetUtilization: number;
  minReplicas: number;
  maxReplicas: number;
  autoApplyEmergency?: { enabled: boolean; maxReplicas?: number };
  actuator: string;
  dryRun: boolean;
  /** The workload as read just now; null when it could not be read (see stateError). */
  state: {
    replicas: number;
    setpoint: number;
    hpa?: { minReplicas: number; maxReplicas: number };
    /** Set while Prescaler holds the HPA's minReplicas raised; expiresAt in Unix ms. */
    floor?: { replicas: number; originalMinReplicas: number; expiresAt: number };
  } | null;
  stateError?: string;
  lastEvaluation: TargetEvaluation | null;
  pending: Recommendation[];
}

export interface TargetsResponse {
  targets: Target[];
}

/** A policy at one setting, measured on a slice (POST /api/whatif `comparison`; DESIGN §3). */
export interface WhatifPoint {
  /** HPA: `{targetUtilization}`; Prescaler: `{quantile, utilization, hpaTarget}`; the oracle: `{}`. */
  setting: { targetUtilization?: number; quantile?: string; utilization?: number; hpaTarget?: number };
  replicaHours: number | null;
  violationMinutes: number | null;
  lateScaleUps: number | null;
  meanRecoveryMinutes: number | null;
}

/** HPA and Prescaler at equal violations, on the test slice (DESIGN §3 `comparison.tuned|default`). */
export interface WhatifComparison {
  hpa: WhatifPoint;
  prescaler: WhatifPoint;
  oracle: WhatifPoint;
  /** 1 − prescaler / hpa replica-hours. */
  saving: number | null;
  /** 95 % bootstrap interval of `saving` over whole test days. */
  savingCi95: [number | null, number | null];
  /** (hpa − prescaler) / (hpa − oracle) replica-hours; null where the oracle saves nothing. */
  gapCaptured: number | null;
  /** The validation-slice figures the settings were chosen by, and the violation limit they were held to. */
  chosenOn: { hpa: WhatifPoint; prescaler: WhatifPoint; violationLimit: number | null };
}

/** Unix ms. */
export interface WhatifSpan {
  start: number;
  end: number;
}

/** POST /api/whatif `{target, start?, end?}` (default: the last 7 days). Times in Unix ms. */
export interface WhatifResponse {
  target: string;
  start: number;
  end: number;
  step: number;
  points: number;
  forecaster?: { name: string; id: string; version: string | number };
  evaluatedHours: number;
  demandScale?: number;
  /** The simulation's settings for `results` (the target's own, or what the request asked for). */
  options?: Record<string, string | number | null>;
  results: Array<{
    policy: 'hpa' | 'prescaler' | 'oracle' | string;
    replicaHours: number | null;
    violationMinutes: number | null;
    lateScaleUps: number | null;
    meanRecoveryMinutes: number | null;
  }>;
  /** Cost at equal violations over the range: its points split 70/10/20 by time. */
  comparison: {
    split: { warmUp: WhatifSpan; validation: WhatifSpan; test: WhatifSpan };
    /** What was read before the range for the forecaster's windows only (never replayed or scored). */
    history: WhatifSpan & { step: number; points: number };
    /** Hours of the test slice: what every figure below covers. */
    evaluatedHours: number;
    validationHours: number;
    budget: { violationMinutes: number; validationViolationMinutes: number };
    tuned: WhatifComparison;
    default: WhatifComparison;
    frontier: { hpa: WhatifPoint[]; prescaler: WhatifPoint[] };
    oracle: WhatifPoint;
  };
}

export interface ApiErrorBody {
  error: { code: string; message: string };
}

export function isApiErrorBody(value: unknown): value is ApiErrorBody {
  const error = (value as ApiErrorBody | undefined)?.error;
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
    if (isApiErrorBody(err.data)) {
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

/** Times in backend answers are Unix ms; accept RFC 3339 too so a format slip does not blank the UI. */
export function toEpochMs(value: number | string): number {
  return typeof value === 'number' ? value : Date.parse(value);
}
