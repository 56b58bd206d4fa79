/**
 * The HTTP contract (docs/api.md): the request bodies and answers of every route the Grafana app and the
 * data source call, defined once. The backend's route handlers declare their answers with these types
 * (so a drift fails `tsc`), and the app (src/) reads the backend through them.
 *
 * Types and constants only: no imports, nothing of Node or the browser, so the backend's tsc build and the
 * plugin's webpack build both compile it. Times in answers are Unix milliseconds; times in requests are
 * Unix seconds or RFC 3339, durations seconds or Prometheus form (`90s`, `10m`, `1h30m`).
 */

export type Labels = Record<string, string>;

/** The step the backend reads at when a request gives none (seconds). */
export const DEFAULT_STEP_SECONDS = 600;

// ---------------------------------------------------------------------------------------------------------
// Errors

/** Every `error.code` the backend answers with, each with its own HTTP status (backend/src/errors.ts). */
export type ErrorCode =
  | 'bad_request'
  | 'bad_query'
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'conflict'
  | 'too_large'
  | 'insufficient_history'
  | 'rate_limited'
  | 'internal'
  | 'upstream_error'
  | 'not_ready'
  | 'upstream_timeout';

/** The body of every error answer. */
export interface ApiError {
  error: { code: ErrorCode; message: string };
}

// ---------------------------------------------------------------------------------------------------------
// GET /api/health (always 200)

export type UpstreamHealth = { ok: true; version: string | null } | { ok: false; error: string };

export interface ModelRef {
  id: string;
  version: string;
}

export interface HealthAnswer {
  /** `degraded` when a model failed to load or the source does not answer (see `errors`). */
  status: 'ok' | 'degraded';
  source: 'prometheus' | 'demo';
  upstream: UpstreamHealth;
  /** null where the model did not load. */
  models: { forecaster: ModelRef | null; anomaly: ModelRef | null };
  /** This replica's role, with leader election configured. */
  role?: 'leader' | 'follower';
  leader?: string | null;
  identity?: string;
  /** Present when status is degraded: what failed. */
  errors?: string[];
}

// ---------------------------------------------------------------------------------------------------------
// POST /api/forecast, POST /api/anomalies

/** Seconds: a number, a numeric string, or Prometheus form. */
export type Duration = number | string;
/** Unix seconds (a number or a numeric string) or RFC 3339. */
export type Time = number | string;

/** POST /api/anomalies. Defaults: end now, start end − 24 h, step DEFAULT_STEP_SECONDS. */
export interface RangeRequest {
  query: string;
  start?: Time;
  end?: Time;
  step?: Duration;
}

/** POST /api/forecast. Default horizon: 1 h, or as far as the model looks ahead when that is less. */
export interface ForecastRequest extends RangeRequest {
  horizon?: Duration;
}

/** [Unix ms, value]. */
export type SamplePoint = [t: number, v: number];
/** [Unix ms, value, lower, upper]: the forecast and its band. */
export type ForecastPoint = [t: number, v: number, lower: number, upper: number];
/** [Unix ms, value, score]: a point scored at or above the detector's threshold. */
export type AnomalyPoint = [t: number, v: number, score: number];

export interface ForecastSeries {
  labels: Labels;
  /** The samples in the range, gaps (NaN in Prometheus) left out. */
  actual: SamplePoint[];
  /** Empty when the series could not be forecast (see `warning`). */
  forecast: ForecastPoint[];
  /** `id@version` of the forecaster. */
  model: string;
  /** Set when this series could not be forecast (e.g. too little history); the others still are. */
  warning?: string;
}

export interface ForecastAnswer {
  series: ForecastSeries[];
}

export interface AnomalySeries {
  labels: Labels;
  /** Scores in 0–1; points that could not be scored are left out. */
  scores: SamplePoint[];
  anomalies: AnomalyPoint[];
  /** null when the series had too little history to score (see `warning`). */
  threshold: number | null;
  warning?: string;
}

export interface AnomaliesAnswer {
  series: AnomalySeries[];
}

// ---------------------------------------------------------------------------------------------------------
// GET /api/recommendations(/:id), POST /api/recommendations/:id/apply, GET /api/audit

export type RecommendationStatus = 'pending' | 'applied' | 'expired' | 'superseded' | 'failed';
/** `forecast` from the evaluation loop, `emergency` from an alert. */
export type RecommendationKind = 'forecast' | 'emergency';

/** The bounds and rules that held a decision (recommend/replicas.ts Recommendation.limitedBy). */
export const REPLICA_LIMITS = [
  'min',
  'max',
  'tolerance',
  'stabilization',
  'maxStepUp',
  'maxStepDown',
] as const;
export type ReplicaLimit = (typeof REPLICA_LIMITS)[number];

/**
 * What a forecast recommendation was based on: the summary the evaluation loop persists with it
 * (the store's StoredRecommendation.forecast) and the API serves as it is, times in milliseconds.
 */
export interface ForecastBasis {
  /** The band sized for, e.g. "p90". */
  quantile: string;
  demand: number;
  /** Milliseconds. */
  demandAt: number;
  /** Seconds. */
  leadTime: number;
  /** Absent in rows written before the peak-to-mean ratio and planned utilisation were recorded. */
  peakFactor?: number;
  utilization?: number;
  /** The count before tolerance, stabilisation and steps (Recommendation.desiredReplicas). */
  desiredReplicas: number;
  limitedBy: ReplicaLimit[];
  /** `id@version` of the forecaster. */
  model: string;
  /** [t ms, value, lower, upper]. */
  points: ForecastPoint[];
}

export interface Recommendation {
  id: string;
  target: string;
  kind: RecommendationKind;
  currentReplicas: number;
  recommendedReplicas: number;
  reason: string;
  /** What the decision was based on (demand, lead time, forecast points); null for an emergency. */
  forecast: ForecastBasis | null;
  createdAt: number;
  expiresAt: number;
  status: RecommendationStatus;
  /** When the status last changed. */
  statusAt: number;
}

/** `apply`, or `revert-floor` when an HPA floor ran out. */
export type AuditAction = 'apply' | 'revert-floor';
/** `unknown`: decided and written, outcome not yet recorded (in flight, or the process died). */
export type AuditOutcome = 'unknown' | 'applied' | 'failed';

export interface AuditRecord {
  id: number;
  at: number;
  action: AuditAction;
  actor: string;
  target: string;
  fromReplicas: number;
  toReplicas: number;
  /** null for an action no recommendation asked for (a floor reverting). */
  recommendationId: string | null;
  outcome: AuditOutcome;
  dryRun: boolean;
  /** What was done or why it failed, in words. */
  detail: string | null;
  finishedAt: number | null;
  /** Outcome settled by reading the cluster after a crash, not by seeing the action finish. */
  reconciled: boolean;
}

/** GET /api/recommendations?target=&status=&limit= */
export interface RecommendationsAnswer {
  recommendations: Recommendation[];
}

/** GET /api/recommendations/:id */
export interface RecommendationDetail extends Recommendation {
  /** The apply of it, if one was tried. */
  audit: AuditRecord | null;
}

/** POST /api/recommendations/:id/apply answers the audit record; refused, the error and the record. */
export type ApplyAnswer = AuditRecord;
export interface ApplyRefusal extends ApiError {
  record: AuditRecord;
}

/** GET /api/audit?target=&limit=&before= (newest first). */
export interface AuditAnswer {
  records: AuditRecord[];
}

// ---------------------------------------------------------------------------------------------------------
// GET /api/targets

/** The last evaluation of a target. */
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
  /**
   * The served detector's threshold, with a score: a score at or above it is an anomaly. The same number
   * /api/anomalies answers as `threshold` and /metrics exports as prescaler_anomaly_threshold.
   */
  anomalyThreshold?: number;
  /** The pending recommendation this evaluation left (new or kept), if a change is due. */
  recommendationId?: string;
}

export interface WorkloadState {
  replicas: number;
  /** What Prescaler writes: the scale subresource's replicas, or the HPA's minReplicas. */
  setpoint: number;
  hpa?: { minReplicas: number; maxReplicas: number };
  /** Set while Prescaler holds the HPA's minReplicas raised. */
  floor?: { replicas: number; originalMinReplicas: number; expiresAt: number };
}

export interface Target {
  name: string;
  namespace: string;
  workload: { kind: 'Deployment' | 'StatefulSet' | 'HorizontalPodAutoscaler'; name: string };
  /** `scale` writes the scale subresource; `hpa-floor` raises an HPA's minReplicas for a while. */
  mode: 'scale' | 'hpa-floor';
  query: string;
  /** What the query measures (e.g. `cores`), when the config names it. */
  unit?: string;
  capacityPerReplica: number;
  targetUtilization: number;
  minReplicas: number;
  maxReplicas: number;
  autoApplyEmergency: { enabled: boolean; maxReplicas?: number };
  actuator: 'dry-run' | 'kubernetes';
  dryRun: boolean;
  /** The workload as read just now; null when it could not be read (see stateError). */
  state: WorkloadState | null;
  stateError?: string;
  lastEvaluation: TargetEvaluation | null;
  /** Its pending recommendations, newest first (at most 5). */
  pending: Recommendation[];
}

export interface TargetsAnswer {
  targets: Target[];
}

// ---------------------------------------------------------------------------------------------------------
// POST /api/whatif (docs/definitions.md "Autoscaling simulation", "Cost at equal violations")

/** `{target, start?, end?}` (default: the last 7 days) and what may be changed for the replay. */
export interface WhatifRequest {
  target: string;
  start?: Time;
  end?: Time;
  /** Rescale the trace so its peak needs this many replicas. */
  peakReplicas?: number;
  /** Pod start-up time, 0–3600 s. */
  startup?: Duration;
  targetUtilization?: number;
}

/**
 * The setting a policy ran at. HPA: `{targetUtilization}`; Prescaler: `{quantile, utilization, hpaTarget,
 * peakQuantile?}`; the oracle: `{}`.
 */
export interface WhatifSetting {
  targetUtilization?: number;
  quantile?: 'lower' | 'mean' | 'upper';
  utilization?: number;
  hpaTarget?: number;
  peakQuantile?: number | 'off';
}

/** A policy at one setting, measured on a slice; null where a figure is not finite. */
export interface WhatifPoint {
  setting: WhatifSetting;
  replicaHours: number | null;
  violationMinutes: number | null;
  lateScaleUps: number | null;
  meanRecoveryMinutes: number | null;
  /** Prescaler only: the share of decisions whose planned demand covered the actual peak (null: none made). */
  peakCoverage?: number | null;
}

/** HPA and Prescaler at equal violations, on the test slice (`comparison.tuned|default`). */
export interface WhatifComparison {
  hpa: WhatifPoint;
  prescaler: WhatifPoint;
  oracle: WhatifPoint;
  /** 1 − prescaler / hpa replica-hours. */
  saving: number | null;
  /** 95 % bootstrap interval of `saving` over whole test days. */
  savingCi95: [lo: number | null, hi: number | null];
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

/** One policy replayed over the whole range at the target's own settings. */
export interface WhatifResult {
  /** `hpa`, `prescaler` or `oracle`. */
  policy: string;
  replicaHours: number | null;
  violationMinutes: number | null;
  lateScaleUps: number | null;
  meanRecoveryMinutes: number | null;
}

export interface WhatifAnswer {
  target: string;
  start: number;
  end: number;
  /** Seconds between the points read. */
  step: number;
  points: number;
  forecaster: { name: string; id: string; version: string };
  evaluatedHours: number;
  /** Cores per unit of the trace's value. */
  demandScale: number;
  /** The simulation's settings for `results` (the target's own, or what the request asked for). */
  options: {
    scaling: 'capacityPerReplica' | 'peakReplicas';
    peakReplicas: number;
    capacityPerReplica?: number;
    startup?: number;
    targetUtilization?: number;
    minReplicas?: number;
    maxReplicas?: number;
    tick: number;
    quantile: 'lower' | 'mean' | 'upper';
    floorUtilization: number;
    interval: number;
    metricLag: number;
  };
  results: WhatifResult[];
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
