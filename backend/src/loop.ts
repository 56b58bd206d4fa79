/**
 * The evaluation loop: every `evaluation.interval` seconds (jittered, never overlapping), for each
 * configured target, read its metric (a day for the forecaster, as much as the anomaly detector needs
 * to score), forecast, score the latest point for anomalies, read the workload's replicas, and turn that
 * into a recommendation, a few gauges and (when a change is due) a pending recommendation in the store.
 * One failing target never stops the others.
 */
import type { Logger } from 'pino';
import type { ActuationService } from './actuate/service';
import type { Actuator } from './actuate/types';
import { historyToRead, type AnomalyModel } from './anomaly';
import { scoreSeries } from './anomaly/answer';
import type { Config, TargetConfig } from './config';
import { DEFAULT_STEP_SECONDS, type TargetEvaluation as ContractTargetEvaluation } from './contract/api';
import { PrescalerError } from './errors';
import { forecastEach } from './forecast/answer';
import type { ForecastPoint } from './forecast/serve';
import { historySeconds } from './forecast/types';
import type { Metrics } from './metrics';
import type { Models } from './models';
import { peakToMeanRatio } from './recommend/peak';
import { forecastBasis, recordForecastRecommendation, ScaleDownMemory } from './recommend/recommendations';
import { quantileLabel, type Recommendation } from './recommend/replicas';
import { decideForTarget, type DecisionState } from './recommend/target';
import type { ColumnSeries } from './series/types';
import { groupQueries, settleEach, splitAnswer } from './sources/selector-groups';
import { queryColumns, type RangeQuery, type SeriesSource } from './sources/types';
import type { Store } from './store/store';

/** Step of the day-long read the peak-to-mean ratio is learned from. */
const PEAK_STEP = 60;
/** Range queries of one round in flight at once (and workload reads). */
const READ_PARALLELISM = 8;
/**
 * Label values one merged read lists. Its answer is parsed on the event loop in one go: 100 series of 8 days
 * at 600 s come as nine day-long pieces of ~0.4 MB; a day at PEAK_STEP is ~36 KB per series, so those
 * reads list fewer.
 */
const MERGED_VALUES = 100;
const MERGED_PEAK_VALUES = 25;
/**
 * Longest stretch, in ms, a round works on the event loop before it lets requests, probes and metrics in.
 * A dry-run decision awaits nothing that leaves the microtask queue, and feature rows or store writes for a
 * few dozen targets take tens of ms on a loaded machine: without these turns a round's 1000 targets would
 * hold the event loop for most of a second at a time.
 */
const SLICE_MS = 8;
const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/** A function that yields to the event loop when SLICE_MS have passed since it last did. */
function pacer(): () => Promise<void> | undefined {
  let since = performance.now();
  return () => {
    if (performance.now() - since < SLICE_MS) return undefined;
    return yieldToEventLoop().then(() => {
      since = performance.now();
    });
  };
}

type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown };

/** A target whose forecast is in, on its way to a decision. */
interface Prepared {
  t: TargetConfig;
  series: ColumnSeries;
  forecast: ForecastPoint[];
  /** The forecast's origin: one step before its first point. */
  origin: number;
  anomalyScore: number | null;
  peakFactor: number;
}

export interface RoundStats {
  targets: number;
  /** Range queries sent (a merged read counts once, however many targets it answers). */
  queries: number;
  seconds: number;
}

/**
 * The last evaluation of a target: the contract's TargetEvaluation (GET /api/targets lastEvaluation) but for
 * `at`, which the loop keeps in Unix seconds and the answer carries in milliseconds (http/routes/targets.ts
 * converts it with the contract's ms). Same meaning otherwise, so derived from it rather than copied.
 */
export interface TargetEvaluation extends Omit<ContractTargetEvaluation, 'at'> {
  /** Unix seconds. */
  at: number;
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
  private roundStats?: RoundStats;
  /** Desired counts of recent evaluations per target, for scale-down stabilisation (recommendations.ts). */
  private readonly memory = new ScaleDownMemory();

  /** Set once `memory` holds what the store remembers (read on the first evaluation after a start). */
  private seeded?: Promise<void>;

  constructor(private readonly deps: LoopDeps) {}

  /** Recent desired counts from the store: this process's, or a previous leader's, before a restart. */
  private seedMemory(): Promise<void> {
    const { config, store } = this.deps;
    // Rows read per target: two per evaluation the window holds (with the interval's jitter and the
    // emergencies between them, fewer come in a window), and a few more.
    const perWindow = (window: number) => 2 * Math.ceil(window / config.evaluation.interval) + 16;
    return (this.seeded ??= this.memory.seed(store, config.targets, this.now(), perWindow));
  }

  private now(): number {
    return this.deps.now ? this.deps.now() : Date.now() / 1000;
  }

  /** Runs one evaluation now, then keeps going every interval. */
  start(): void {
    this.stopped = false;
    // A replica that leads again reads what the leaders in between recommended.
    this.seeded = undefined;
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
    await this.seedMemory();
    return this.evaluateRound(this.deps.config.targets, this.now());
  }

  /** How the latest round went: targets, range queries it sent (merged reads count once), seconds. */
  lastRound(): RoundStats | undefined {
    return this.roundStats;
  }

  /**
   * One round at one instant, in stages, each for every target before the next: read (merged where
   * provably equal, else READ_PARALLELISM at a time), forecast (in batches), score (one forest batch),
   * the peak reads, then for each target recommend (read the workload, decide) and persist. A target that
   * fails at any stage gets its error; the others go on.
   */
  private async evaluateRound(targets: readonly TargetConfig[], now: number): Promise<TargetEvaluation[]> {
    const { models, metrics } = this.deps;
    const began = performance.now();
    const stats: RoundStats = { targets: targets.length, queries: 0, seconds: 0 };
    const results = new Map<TargetConfig, TargetEvaluation>();
    const fail = (t: TargetConfig, e: unknown) => results.set(t, this.failed(t, now, e));
    const done = () => {
      stats.seconds = (performance.now() - began) / 1000;
      this.roundStats = stats;
      const out: TargetEvaluation[] = [];
      for (const t of targets) {
        const r = results.get(t);
        if (!r) continue;
        this.last.set(t.name, r);
        out.push(r);
      }
      return out;
    };
    const forecaster = models.forecaster;
    if (!forecaster) {
      const e = new EvaluationError(
        'no_forecaster',
        `no forecaster loaded: ${models.forecasterError ?? 'unknown reason'}`
      );
      for (const t of targets) fail(t, e);
      return done();
    }
    const step = forecaster.step ?? DEFAULT_STEP_SECONDS;
    // The forecaster reads what its seasonal inputs need (days). The detector's features look back two days
    // and a little (48.5 h at 600 s; with less it cannot score at all), and its onset damping compares with
    // the scores of the previous onsetSeconds: read both, so the gauge is the score /api/anomalies gives
    // the same point.
    // The grid ends exactly at `now`, so the latest point is the metric's value now, not a bucket mean:
    // a spike that started a minute ago is already in it.
    const anomalyHistory = models.anomaly ? historyToRead(models.anomaly, step) : 0;
    const start = now - Math.max(historySeconds(forecaster), anomalyHistory);

    const live = await this.read(targets, { start, end: now, step }, stats, fail);
    if (this.stopped) return done();
    const ready = await this.forecast(forecaster, live, start, now, fail);
    if (this.stopped) return done();
    if (models.anomaly) await this.score(models.anomaly, ready, step, start);
    await this.peakFactors(ready, now, step, stats);
    if (this.stopped) return done();

    const pace = pacer();
    await settleEach(ready, READ_PARALLELISM, async (p) => {
      if (this.stopped) return;
      try {
        const { current, rec } = await this.recommend(p, now);
        const recommendationId = await this.persist(p, current, rec, now);
        results.set(p.t, {
          target: p.t.name,
          at: now,
          ok: true,
          currentReplicas: current,
          recommendedReplicas: rec.recommendedReplicas,
          desiredReplicas: rec.desiredReplicas,
          demand: rec.demand,
          reason: rec.reason,
          anomalyScore: p.anomalyScore,
          ...(p.anomalyScore !== null && this.deps.models.anomaly
            ? { anomalyThreshold: this.deps.models.anomaly.detector.threshold }
            : {}),
          recommendationId,
        });
        metrics.lastEvaluation.setToCurrentTime({ target: p.t.name });
      } catch (e) {
        fail(p.t, e);
      }
      await pace();
    });
    return done();
  }

  /** A target's failed evaluation, counted under its reason; it keeps the figures of its last good one. */
  private failed(t: TargetConfig, at: number, e: unknown): TargetEvaluation {
    const { metrics, logger } = this.deps;
    const reason =
      e instanceof EvaluationError ? e.reason : e instanceof PrescalerError ? e.code : 'internal';
    const message = (e as Error).message;
    metrics.evaluationErrors.inc({ target: t.name, reason });
    logger.warn({ target: t.name, reason, err: message }, 'evaluation of a target failed');
    return { ...this.last.get(t.name), target: t.name, at, ok: false, error: { reason, message } };
  }

  /** Read: each target's one series over `range`; a target without exactly one fails. */
  private async read(
    targets: readonly TargetConfig[],
    range: Omit<RangeQuery, 'query'>,
    stats: RoundStats,
    fail: (t: TargetConfig, e: unknown) => void
  ): Promise<Array<{ t: TargetConfig; series: ColumnSeries }>> {
    const reads = await this.readAll(
      targets.map((t) => t.query),
      range,
      stats
    );
    const live: Array<{ t: TargetConfig; series: ColumnSeries }> = [];
    targets.forEach((t, i) => {
      const r = reads[i];
      if (!r.ok) return void fail(t, r.error);
      if (r.value.length === 0)
        return void fail(t, new EvaluationError('no_data', `query returned no series: ${t.query}`));
      if (r.value.length > 1) {
        return void fail(
          t,
          new EvaluationError(
            'multiple_series',
            `query returned ${r.value.length} series; a target's query must return one (wrap it in sum(...))`
          )
        );
      }
      live.push({ t, series: r.value[0] });
    });
    return live;
  }

  /**
   * Each query's answer over `range` (or its error): merged plain selectors and identical queries read once
   * (sources/selector-groups.ts), READ_PARALLELISM reads at a time. A merged read that fails is read again
   * query by query, so each target gets its own answer or its own error.
   */
  private async readAll(
    queries: string[],
    range: Omit<RangeQuery, 'query'>,
    stats: RoundStats,
    mergedValues = MERGED_VALUES
  ): Promise<Array<Settled<ColumnSeries[]>>> {
    const { source } = this.deps;
    const read = (query: string) => {
      stats.queries++;
      return queryColumns(source, { query, ...range });
    };
    const groups = groupQueries(queries, mergedValues);
    const answers = await settleEach(groups, READ_PARALLELISM, (g) => read(g.query));
    const out: Array<Settled<ColumnSeries[]>> = new Array(queries.length);
    const again: number[] = [];
    groups.forEach((g, k) => {
      const a = answers[k];
      if (a.ok) splitAnswer(g, a.value).forEach((value, j) => (out[g.members[j]] = { ok: true, value }));
      else if (g.label) again.push(...g.members);
      else for (const i of g.members) out[i] = a;
    });
    if (again.length) {
      const singles = await settleEach(again, READ_PARALLELISM, (i) => read(queries[i]));
      again.forEach((i, k) => (out[i] = singles[k]));
    }
    return out;
  }

  /**
   * Forecast: every series through forecast/answer.ts forecastEach (the history /api/forecast gives it, in
   * batches); the forecast gauges. A target without a forecast fails.
   */
  private async forecast(
    forecaster: NonNullable<Models['forecaster']>,
    live: ReadonlyArray<{ t: TargetConfig; series: ColumnSeries }>,
    start: number,
    now: number,
    fail: (t: TargetConfig, e: unknown) => void
  ): Promise<Prepared[]> {
    const { metrics } = this.deps;
    const step = forecaster.step ?? DEFAULT_STEP_SECONDS;
    const forecasts = await forecastEach(
      forecaster,
      live.map((l) => l.series),
      { now, origin: start }
    );
    const ready: Prepared[] = [];
    live.forEach(({ t, series }, k) => {
      const f = forecasts[k];
      if (!f.ok) return void fail(t, f.error);
      if (!f.value.forecast.length)
        return void fail(t, new EvaluationError('insufficient_history', f.value.warning ?? 'no forecast'));
      const forecast = f.value.forecast;
      const origin = forecast[0][0] - step;
      for (const [ft, v] of forecast)
        metrics.forecast.set({ target: t.name, horizon: String(Math.round(ft - origin)) }, v);
      ready.push({ t, series, forecast, origin, anomalyScore: null, peakFactor: 1 });
    });
    return ready;
  }

  /**
   * Score: the latest point's anomaly score of every series, through anomaly/answer.ts scoreSeries (the
   * same path as /api/anomalies: one forest batch, on worker threads when they are many). A failure is
   * counted and leaves the score null: scaling does not depend on it.
   */
  private async score(model: AnomalyModel, ready: Prepared[], step: number, start: number): Promise<void> {
    const { results } = await scoreSeries(
      model,
      ready.map((p) => p.series),
      { step, origin: start, from: 'latest', pace: pacer() }
    );
    ready.forEach((p, k) => {
      const r = results[k];
      if (!r.ok) return this.anomalyFailed(p.t, r.error);
      const lastScore = r.value.scores[r.value.scores.length - 1];
      if (lastScore) {
        p.anomalyScore = lastScore[1];
        this.deps.metrics.anomalyScore.set({ target: p.t.name }, lastScore[1]);
      }
    });
  }

  private anomalyFailed(t: TargetConfig, e: unknown): void {
    const reason = e instanceof PrescalerError ? `anomaly_${e.code}` : 'anomaly';
    this.deps.metrics.evaluationErrors.inc({ target: t.name, reason });
    this.deps.logger.warn({ target: t.name, err: (e as Error).message }, 'anomaly score failed');
  }

  /**
   * Each target's peak-to-mean ratio over the last day, read at PEAK_STEP: how far above a forecast bucket's
   * mean its demand peaks. A failed read sizes for the means (1) and is counted, never fatal.
   */
  private async peakFactors(ready: Prepared[], now: number, step: number, stats: RoundStats): Promise<void> {
    const perBucket = Math.round(step / PEAK_STEP);
    if (perBucket < 2) return;
    const wanted = ready.filter((p) => p.t.peakQuantile !== 'off');
    const reads = await this.readAll(
      wanted.map((p) => p.t.query),
      { start: now - 86400, end: now, step: PEAK_STEP },
      stats,
      MERGED_PEAK_VALUES
    );
    const pace = pacer();
    for (let k = 0; k < wanted.length; k++) {
      const p = wanted[k];
      const r = reads[k];
      try {
        if (!r.ok) throw r.error;
        const s = r.value[0];
        if (s) p.peakFactor = peakToMeanRatio(s.values, perBucket, p.t.peakQuantile as number);
      } catch (e) {
        this.deps.metrics.evaluationErrors.inc({ target: p.t.name, reason: 'peak_read' });
        this.deps.logger.warn({ target: p.t.name, err: (e as Error).message }, 'peak-to-mean read failed');
      }
      await pace();
    }
  }

  /**
   * Recommend: read the workload (and its gauges), decide with the target's recent desired counts, and
   * remember this one's.
   */
  private async recommend(p: Prepared, now: number): Promise<{ current: number; rec: Recommendation }> {
    const { config, models, actuator, metrics } = this.deps;
    const { t } = p;
    const state = await actuator.read(t);
    const current = state.replicas;
    metrics.currentReplicas.set({ target: t.name }, current);
    // What PrescalerForecastAboveCapacity compares the forecast with.
    metrics.capacity.set({ target: t.name }, current * t.capacityPerReplica);

    const rec = liveDecision(config, t, {
      origin: p.origin,
      now,
      forecast: p.forecast,
      currentReplicas: current,
      recent: this.memory.within(t.name, t.scaleDownStabilization, now),
      peakFactor: p.peakFactor,
      nominal: models.forecaster!.metadata?.interval?.nominal,
    });
    this.memory.remember(t.name, now, rec.desiredReplicas);
    metrics.recommendedReplicas.set({ target: t.name }, rec.recommendedReplicas);
    return { current, rec };
  }

  /** Persist: the decision as a pending recommendation, or none (recommendations.ts); the id that stands. */
  private async persist(
    p: Prepared,
    current: number,
    rec: Recommendation,
    now: number
  ): Promise<string | undefined> {
    const { config, models, store, logger } = this.deps;
    const { t } = p;
    const forecaster = models.forecaster!;
    const { id, added } = await recordForecastRecommendation(store, {
      target: t.name,
      now,
      ttl: config.evaluation.recommendationTtl,
      currentReplicas: current,
      rec,
      basis: forecastBasis(rec, {
        quantile: quantileLabel(forecaster.metadata?.interval?.nominal, t.quantile),
        utilization: t.targetUtilization,
        model: `${forecaster.metadata?.id}@${forecaster.metadata?.version}`,
        forecast: p.forecast,
      }),
    });
    if (added) logger.info({ target: t.name, id, reason: rec.reason }, 'recommendation');
    return id;
  }
}
