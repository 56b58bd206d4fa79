/**
 * The backend's own Prometheus metrics (served at /metrics): requests, latencies, errors, upstream, process,
 * and the evaluation loop's gauges. Outside http/ so that the loop and the actuation service, which set them,
 * depend on no HTTP module; http/metrics.ts re-exports it.
 */
import * as client from 'prom-client';

export class Metrics {
  readonly registry = new client.Registry();

  readonly httpRequests = new client.Counter({
    name: 'prescaler_http_requests_total',
    help: 'HTTP requests answered, by route and status code.',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [this.registry],
  });

  readonly httpDuration = new client.Histogram({
    name: 'prescaler_http_request_duration_seconds',
    help: 'Time to answer an HTTP request.',
    labelNames: ['method', 'route'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  readonly errors = new client.Counter({
    name: 'prescaler_errors_total',
    help: 'Error answers, by error code.',
    labelNames: ['code'] as const,
    registers: [this.registry],
  });

  readonly upstreamDuration = new client.Histogram({
    name: 'prescaler_upstream_request_duration_seconds',
    help: 'Time of requests to the metrics source (Prometheus API), by outcome.',
    labelNames: ['outcome'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });

  readonly forecast = new client.Gauge({
    name: 'prescaler_forecast',
    help: 'Forecast demand of a target, by horizon in seconds.',
    labelNames: ['target', 'horizon'] as const,
    registers: [this.registry],
  });

  readonly anomalyScore = new client.Gauge({
    name: 'prescaler_anomaly_score',
    help: 'Latest anomaly score of a target, in [0, 1].',
    labelNames: ['target'] as const,
    registers: [this.registry],
  });

  readonly recommendedReplicas = new client.Gauge({
    name: 'prescaler_recommended_replicas',
    help: 'Replicas Prescaler recommends for a target.',
    labelNames: ['target'] as const,
    registers: [this.registry],
  });

  readonly currentReplicas = new client.Gauge({
    name: 'prescaler_current_replicas',
    help: 'Replicas a target runs now, as last read.',
    labelNames: ['target'] as const,
    registers: [this.registry],
  });

  readonly capacity = new client.Gauge({
    name: 'prescaler_capacity',
    help: 'Demand a target can serve now at 100 % (current replicas × capacityPerReplica), in its query unit.',
    labelNames: ['target'] as const,
    registers: [this.registry],
  });

  readonly evaluationErrors = new client.Counter({
    name: 'prescaler_evaluation_errors_total',
    help: 'Failed evaluations of a target, by reason.',
    labelNames: ['target', 'reason'] as const,
    registers: [this.registry],
  });

  readonly buildInfo = new client.Gauge({
    name: 'prescaler_build_info',
    help:
      'Always 1: the running version, Node version and the models served (id@version, "none" where a model ' +
      'failed to load).',
    labelNames: ['version', 'node', 'forecaster', 'anomaly'] as const,
    registers: [this.registry],
  });

  /**
   * The served detector's threshold: the one number /api/anomalies calls an anomaly at, the panel marks, and
   * the alert rules compare prescaler_anomaly_score with (it comes from the NAB corpus calibration,
   * docs/anomaly.md). Absent when no detector is loaded, so the rules stay silent.
   */
  readonly anomalyThreshold = new client.Gauge({
    name: 'prescaler_anomaly_threshold',
    help: "Anomaly score at or above which a point is an anomaly (the served detector's calibrated threshold).",
    registers: [this.registry],
  });

  readonly leader = new client.Gauge({
    name: 'prescaler_leader',
    help:
      '1 while this replica is the leader (runs the evaluation loop, reverts floors, reconciles), else 0. ' +
      'The sum over replicas is 1 when the election works.',
    registers: [this.registry],
  });

  readonly lastEvaluation = new client.Gauge({
    name: 'prescaler_last_evaluation_timestamp_seconds',
    help: 'When the evaluation loop last evaluated a target successfully (Unix seconds, wall clock).',
    labelNames: ['target'] as const,
    registers: [this.registry],
  });

  readonly actions = new client.Counter({
    name: 'prescaler_actions_total',
    help:
      'Actions on a target (applies, emergency auto-applies, HPA floors reverting), by outcome: applied, ' +
      'failed (the cluster refused or could not be reached), refused (not attempted: the recommendation was ' +
      'not pending, out of bounds, or another action was in flight), unknown (no answer from the cluster: ' +
      'counted again as applied or failed once reconciled).',
    labelNames: ['target', 'outcome'] as const,
    registers: [this.registry],
  });

  /** Set by the what-if route: its replays running and waiting, read at each scrape. */
  whatifLoad?: () => { running: number; queued: number };

  readonly whatifSimulations = new client.Gauge({
    name: 'prescaler_whatif_simulations',
    help: 'What-if replays running (at most 1) and waiting for their turn, by state.',
    labelNames: ['state'] as const,
    registers: [this.registry],
    collect: () => {
      const load = this.whatifLoad?.() ?? { running: 0, queued: 0 };
      this.whatifSimulations.set({ state: 'running' }, load.running);
      this.whatifSimulations.set({ state: 'queued' }, load.queued);
    },
  });

  readonly historyCacheLookups = new client.Counter({
    name: 'prescaler_history_cache_lookups_total',
    help:
      'Range queries through the history cache, by how they were answered: hit (cache only), partial ' +
      '(cache, then the upstream for newer steps), miss (upstream only), bypass (not cacheable).',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  /** Set by the server when the history cache is on: its size, read at each scrape. */
  historyCacheSize?: () => { bytes: number; entries: number };

  readonly historyCacheBytes: client.Gauge = new client.Gauge({
    name: 'prescaler_history_cache_bytes',
    help: 'Bytes the history cache holds.',
    registers: [this.registry],
    collect: () => {
      this.historyCacheBytes.set(this.historyCacheSize?.().bytes ?? 0);
    },
  });

  readonly answerLookups = new client.Counter({
    name: 'prescaler_answer_reuse_total',
    help:
      'Forecast and anomaly answers by whether the last answer to the same request, computed from the ' +
      'same inputs by the same model, was sent again (reused) or the answer was computed (computed).',
    labelNames: ['route', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly forestBatches = new client.Counter({
    name: 'prescaler_anomaly_forest_batches_total',
    help:
      'Anomaly answers whose feature rows went through the forest, by where: workers (one thread per core), ' +
      'in_process (too few rows, or workers cooling down after a failure), fallback (a worker failed or was stopped).',
    labelNames: ['where'] as const,
    registers: [this.registry],
  });

  readonly anomalyPoints = new client.Counter({
    name: 'prescaler_anomaly_points_total',
    help:
      'Points /api/anomalies computed an answer for, by whether the forest scored them (scored) or their ' +
      'raw score was kept from the last answer, their values unchanged (reused).',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  /** Set by the app: the bytes its answer memos hold, by kind. */
  answerMemoSize?: () => Record<'answers' | 'anomaly_scores', number>;

  readonly answerMemoBytes: client.Gauge = new client.Gauge({
    name: 'prescaler_answer_memo_bytes',
    help: 'Bytes the kept answers (answers) and the kept raw anomaly scores (anomaly_scores) hold.',
    labelNames: ['kind'] as const,
    registers: [this.registry],
    collect: () => {
      const size = this.answerMemoSize?.();
      this.answerMemoBytes.set({ kind: 'answers' }, size?.answers ?? 0);
      this.answerMemoBytes.set({ kind: 'anomaly_scores' }, size?.anomaly_scores ?? 0);
    },
  });

  /** prescaler_build_info: one series, replaced whenever the models served change. */
  setBuildInfo(info: { version: string; node: string; forecaster: string; anomaly: string }): void {
    this.buildInfo.reset();
    this.buildInfo.set(info, 1);
  }

  constructor(opts: { processMetrics?: boolean } = {}) {
    if (opts.processMetrics ?? true) client.collectDefaultMetrics({ register: this.registry });
  }
}
