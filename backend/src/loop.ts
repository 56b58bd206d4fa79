/**
 * The evaluation loop: every `evaluation.interval` seconds (jittered, never overlapping), for each
 * configured target, read its metric (a day for the forecaster, as much as the anomaly detector needs
 * to score), forecast, score the latest point for anomalies, read the workload's replicas, and turn that
 * into a recommendation, a few gauges and (when a change is due) a pending recommendation in the store.
 * One failing target never stops the others.
 */
import type { Logger } from 'pino';
import type { ActuationService } from './actuate/service';
import { newRecommendationId } from './actuate/service';
import type { Actuator } from './actuate/types';
import { historyToRead, scoreSegments } from './anomaly';
import type { Config, TargetConfig } from './config';
import { PrescalerError } from './errors';
import { forecastSeries, maxHorizon } from './forecast/serve';
import { historySeconds } from './forecast/types';
import type { Models } from './http/app';
import type { Metrics } from './http/metrics';
import { peakToMeanRatio } from './recommend/peak';
import { quantileLabel, type Recommendation } from './recommend/replicas';
import { decideForTarget, type DecisionState } from './recommend/target';
import { resample } from './series/resample';
import type { SeriesSource } from './sources/types';
import type { Store } from './store/store';

const DEFAULT_STEP = 600;
/** Step of the day-long read the peak-to-mean ratio is learned from. */
const PEAK_STEP = 60;

export interface TargetEvaluation {
  target: string;
  /** Unix seconds. */
  at: number;
  ok: boolean;
  error?: { reason: string; message: string };
  currentReplicas?: number;
  recommendedReplicas?: number;
  desiredReplicas?: number;
  demand?: number;
  reason?: string;
  anomalyScore?: number | null;
  /** The pending recommendation this evaluation left (new or kept), if a change is due. */
  recommendationId?: string;
}

export interface LoopDeps {
  config: Config;
  source: SeriesSource;
  models: Models;
  store: Store;
  actuator: Actuator;
  service: ActuationService;
  metrics: Metrics;
  logger: Logger;
  now?: () => number;
  random?: () => number;
}

/** A failure with the short label it is counted under in prescaler_evaluation_errors_total. */
class EvaluationError extends Error {
  constructor(
    readonly reason: string,
    message: string
  ) {
    super(message);
  }
}

/** The decision the loop makes for a target: its settings and the loop's interval and metric lag. */
export function liveDecision(
  config: Pick<Config, 'evaluation'>,
  t: TargetConfig,
  state: Omit<DecisionState, 'interval' | 'metricLag'>
): Recommendation {
  return decideForTarget(t, {
    ...state,
    interval: config.evaluation.interval,
    metricLag: config.evaluation.metricLag,
  });
}

export class EvaluationLoop {
  private timer?: NodeJS.Timeout;
  private running?: Promise<TargetEvaluation[]>;
  private stopped = false;
  private readonly last = new Map<string, TargetEvaluation>();
  /** Desired counts of recent evaluations per target, for scale-down stabilisation. */
  private readonly recent = new Map<string, Array<{ at: number; replicas: number }>>();

  /** Set once `recent` holds what the store remembers (read on the first evaluation after a start). */
  private seeded?: Promise<void>;

  constructor(private readonly deps: LoopDeps) {}

  /** Recent desired counts from the store: this process's, or a previous leader's, before a restart. */
  private seedRecent(): Promise<void> {
    return (this.seeded ??= (async () => {
      const now = this.now();
      for (const t of this.deps.config.targets) {
        const since = now - t.scaleDownStabilization;
        this.recent.set(t.name, await this.deps.store.recentRecommendedReplicas(t.name, since));
      }
    })());
  }

  private now(): number {
    return this.deps.now ? this.deps.now() : Date.now() / 1000;
  }

  /** Runs one evaluation now, then keeps going every interval. */
  start(): void {
    this.stopped = false;
    const tick = () => {
      this.evaluateNow()
        .catch((e) => this.deps.logger.error({ err: (e as Error).message }, 'evaluation failed'))
        .finally(() => {
          if (this.stopped) return;
          const jitter = 0.9 + 0.2 * (this.deps.random ?? Math.random)();
          this.timer = setTimeout(tick, this.deps.config.evaluation.interval * 1000 * jitter);
          this.timer.unref();
        });
    };
    tick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running?.catch(() => undefined);
  }

  /** The latest evaluation of a target. */
  status(target: string): TargetEvaluation | undefined {
    return this.last.get(target);
  }

  /** Evaluates every target once; a call while one runs joins that run instead of starting another. */
  evaluateNow(): Promise<TargetEvaluation[]> {
    this.running ??= this.evaluateAll().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async evaluateAll(): Promise<TargetEvaluation[]> {
    const { service, store, logger } = this.deps;
    // Housekeeping first: settle crashed decisions, revert expired floors, expire stale advice.
    await service.reconcile().catch((e) => logger.error({ err: (e as Error).message }, 'reconcile failed'));
    await service
      .sweepFloors()
      .catch((e) => logger.error({ err: (e as Error).message }, 'floor sweep failed'));
    await store.expireDue(this.now());
    await this.seedRecent();
    const out: TargetEvaluation[] = [];
    for (const t of this.deps.config.targets) {
      if (this.stopped) break;
      out.push(await this.evaluateTarget(t));
    }
    return out;
  }

  private async evaluateTarget(t: TargetConfig): Promise<TargetEvaluation> {
    const { metrics, logger } = this.deps;
    const at = this.now();
    let result: TargetEvaluation;
    try {
      result = await this.evaluate(t, at);
      metrics.lastEvaluation.setToCurrentTime({ target: t.name });
    } catch (e) {
      const reason =
        e instanceof EvaluationError ? e.reason : e instanceof PrescalerError ? e.code : 'internal';
      const message = (e as Error).message;
      metrics.evaluationErrors.inc({ target: t.name, reason });
      logger.warn({ target: t.name, reason, err: message }, 'evaluation of a target failed');
      result = { ...this.last.get(t.name), target: t.name, at, ok: false, error: { reason, message } };
    }
    this.last.set(t.name, result);
    return result;
  }

  /**
   * The target's peak-to-mean ratio over the last day, read at PEAK_STEP: how far above a forecast bucket's
   * mean its demand peaks. A failed read sizes for the means (1) and is counted, never fatal.
   */
  private async peakFactor(t: TargetConfig, now: number, step: number): Promise<number> {
    const perBucket = Math.round(step / PEAK_STEP);
    if (perBucket < 2 || t.peakQuantile === 'off') return 1;
    try {
      const [s] = await this.deps.source.queryRange({
        query: t.query,
        start: now - 86400,
        end: now,
        step: PEAK_STEP,
      });
      if (!s) return 1;
      const values = new Float64Array(s.points.length);
      s.points.forEach(([, v], i) => (values[i] = v));
      return peakToMeanRatio(values, perBucket, t.peakQuantile);
    } catch (e) {
      this.deps.metrics.evaluationErrors.inc({ target: t.name, reason: 'peak_read' });
      this.deps.logger.warn({ target: t.name, err: (e as Error).message }, 'peak-to-mean read failed');
      return 1;
    }
  }

  private async evaluate(t: TargetConfig, now: number): Promise<TargetEvaluation> {
    const { config, source, models, store, actuator, metrics, logger } = this.deps;
    const forecaster = models.forecaster;
    if (!forecaster)
      throw new EvaluationError(
        'no_forecaster',
        `no forecaster loaded: ${models.forecasterError ?? 'unknown reason'}`
      );
    const step = forecaster.step ?? DEFAULT_STEP;
    // The forecaster reads what its seasonal inputs need (days). The detector's features look back two days
    // and a little (48.5 h at 600 s; with less it cannot score at all), and its onset damping compares with
    // the scores of the previous onsetSeconds: read both, so the gauge is the score /api/anomalies gives
    // the same point.
    // The grid ends exactly at `now`, so the latest point is the metric's value now, not a bucket mean:
    // a spike that started a minute ago is already in it.
    const anomalyHistory = models.anomaly ? historyToRead(models.anomaly, step) : 0;
    const history = Math.max(historySeconds(forecaster), anomalyHistory);
    const start = now - history;
    const series = await source.queryRange({ query: t.query, start, end: now, step });
    if (series.length === 0) throw new EvaluationError('no_data', `query returned no series: ${t.query}`);
    if (series.length > 1) {
      throw new EvaluationError(
        'multiple_series',
        `query returned ${series.length} series; a target's query must return one (wrap it in sum(...))`
      );
    }
    // The forecaster gets the same history /api/forecast gives it (its per-series scaler is fitted on it).
    const historyStart = now - historySeconds(forecaster);
    const forecastInput = [{ ...series[0], points: series[0].points.filter(([pt]) => pt >= historyStart) }];
    const [f] = await forecastSeries(forecaster, forecastInput, {
      horizon: maxHorizon(forecaster),
      origin: start,
    });
    if (!f.forecast.length) throw new EvaluationError('insufficient_history', f.warning ?? 'no forecast');
    const origin = f.forecast[0][0] - step;
    for (const [ft, v] of f.forecast)
      metrics.forecast.set({ target: t.name, horizon: String(Math.round(ft - origin)) }, v);

    let anomalyScore: number | null = null;
    if (models.anomaly) {
      try {
        const segments = resample(series[0].points, step, { origin: start });
        const last = segments[segments.length - 1];
        // Only the latest point's score is exported: the points before it are its past.
        const scored = scoreSegments(models.anomaly, segments, {
          from: last && last.start + (last.values.length - 1) * last.step,
        });
        const lastScore = scored.scores[scored.scores.length - 1];
        if (lastScore) {
          anomalyScore = lastScore[1];
          metrics.anomalyScore.set({ target: t.name }, lastScore[1]);
        }
      } catch (e) {
        // Scaling does not depend on the score: count the failure and go on.
        const reason = e instanceof PrescalerError ? `anomaly_${e.code}` : 'anomaly';
        metrics.evaluationErrors.inc({ target: t.name, reason });
        logger.warn({ target: t.name, err: (e as Error).message }, 'anomaly score failed');
      }
    }

    const state = await actuator.read(t);
    const current = state.replicas;
    metrics.currentReplicas.set({ target: t.name }, current);
    // What PrescalerForecastAboveCapacity compares the forecast with.
    metrics.capacity.set({ target: t.name }, current * t.capacityPerReplica);

    const recent = (this.recent.get(t.name) ?? []).filter((r) => r.at >= now - t.scaleDownStabilization);
    const nominal = forecaster.metadata?.interval?.nominal;
    const q = quantileLabel(nominal, t.quantile);
    const rec = liveDecision(config, t, {
      origin,
      now,
      forecast: f.forecast,
      currentReplicas: current,
      recent,
      peakFactor: await this.peakFactor(t, now, step),
      nominal,
    });
    recent.push({ at: now, replicas: rec.desiredReplicas });
    this.recent.set(t.name, recent);
    metrics.recommendedReplicas.set({ target: t.name }, rec.recommendedReplicas);

    let recommendationId: string | undefined;
    if (rec.change) {
      const pending = await store.pendingRecommendation(t.name, 'forecast');
      if (
        pending &&
        pending.recommendedReplicas === rec.recommendedReplicas &&
        pending.currentReplicas === current
      ) {
        // Same advice as the one on screen: keep its id so an Apply in progress still finds it.
        recommendationId = pending.id;
      } else {
        recommendationId = newRecommendationId();
        const ms = (x: number) => Math.round(x * 1000);
        await store.addRecommendation(
          {
            id: recommendationId,
            target: t.name,
            kind: 'forecast',
            createdAt: now,
            expiresAt: now + config.evaluation.recommendationTtl,
            currentReplicas: current,
            recommendedReplicas: rec.recommendedReplicas,
            reason: rec.reason,
            forecast: {
              quantile: q,
              demand: rec.demand,
              demandAt: ms(rec.demandAt),
              leadTime: rec.leadTime,
              peakFactor: rec.peakFactor,
              utilization: t.targetUtilization,
              desiredReplicas: rec.desiredReplicas,
              limitedBy: rec.limitedBy,
              model: `${forecaster.metadata?.id}@${forecaster.metadata?.version}`,
              points: f.forecast.map(([ft, v, lo, hi]) => [ms(ft), v, lo, hi]),
            },
            status: 'pending',
            statusAt: now,
            origin: null,
          },
          ['forecast']
        );
        logger.info({ target: t.name, id: recommendationId, reason: rec.reason }, 'recommendation');
      }
    } else {
      await store.supersedePending(t.name, ['forecast'], now);
    }
    return {
      target: t.name,
      at: now,
      ok: true,
      currentReplicas: current,
      recommendedReplicas: rec.recommendedReplicas,
      desiredReplicas: rec.desiredReplicas,
      demand: rec.demand,
      reason: rec.reason,
      anomalyScore,
      recommendationId,
    };
  }
}
