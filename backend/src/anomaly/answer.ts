/**
 * The anomaly use case: what anomaly scores read, the series read scored together, and the answer.
 * `/api/anomalies` (http/routes/anomalies.ts) and the evaluation loop (its anomaly gauge) both score through
 * `scoreSeries`: resampled on one grid, read with historyToRead of warm-up, their feature rows through the
 * forest in one ScoreBatch. No HTTP here.
 */
import { ms } from '../contract/time';
import { PrescalerError } from '../errors';
import { resampleColumns } from '../series/resample';
import type { ColumnSeries, Labels } from '../series/types';
import type { RangeQuery } from '../sources/types';
import { historyToRead, ScoreBatch, type AnomalyModel, type BatchedSeries, type ScoreResult } from './index';
import type { ScoredWhere } from './forest-workers';
import type { ScoreSession } from './score-memo';

type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown };

/**
 * The read that anomaly scores of `range` need: the range and, before it, the history its first point's
 * score reads (features, breakout rule, onset damping: historyToRead), so the range is scored from its
 * first point exactly as the evaluation loop scores it. too_large past the points limit.
 */
export function planAnomalyRead(model: AnomalyModel, range: RangeQuery, maxPoints: number): RangeQuery {
  const warmup = historyToRead(model, range.step);
  const warmupPoints = warmup / range.step;
  const rangePoints = Math.floor((range.end - range.start) / range.step) + 1;
  if (warmupPoints + rangePoints > maxPoints) {
    const minStep = Math.ceil((range.end - range.start + warmup) / maxPoints);
    throw new PrescalerError(
      'too_large',
      `anomaly scores read ${Math.round(warmup / 3600)} h of history before start (${warmupPoints} points at ` +
        `step ${range.step}s) on top of the ${rangePoints} points asked for, more than the limit of ` +
        `${maxPoints}: use a step of at least ${minStep}s or a shorter range`
    );
  }
  return { ...range, start: range.start - warmup };
}

export interface ScoreSeriesOptions {
  /** The grid: its step and a time on it. */
  step: number;
  origin: number;
  /** Scores from this time (seconds) on, or only each series' latest point (`'latest'`). */
  from: number | 'latest';
  /** Raw scores kept from the last answer (score-memo.ts), by each series' labels. */
  memo?: ScoreSession;
  /** Called after each series is planned and served: the loop lets the event loop in. */
  pace?: () => Promise<void> | undefined;
}

/**
 * Scores of many series read with their warm-up: each is resampled on the grid and its points from `from`
 * on scored, all in one forest batch (on worker threads when they are many). Each series gets its result
 * or its own error (bad_request for a non-finite value, insufficient_history when it is too short); if the
 * forest walk itself fails, every series gets that error.
 */
export async function scoreSeries(
  model: AnomalyModel,
  series: readonly ColumnSeries[],
  opts: ScoreSeriesOptions
): Promise<{ results: Array<Settled<ScoreResult>>; where?: ScoredWhere }> {
  const batch = new ScoreBatch(model, { memo: opts.memo });
  const results: Array<Settled<ScoreResult>> = new Array(series.length);
  const added: Array<{ k: number; series: BatchedSeries }> = [];
  for (let k = 0; k < series.length; k++) {
    const s = series[k];
    try {
      const segments = resampleColumns(s.times, s.values, opts.step, { origin: opts.origin });
      const last = segments[segments.length - 1];
      // 'latest': the points before it are its past.
      const from =
        opts.from === 'latest' ? last && last.start + (last.values.length - 1) * last.step : opts.from;
      added.push({ k, series: batch.add(segments, { from, labels: s.labels }) });
    } catch (error) {
      results[k] = { ok: false, error };
    }
    await opts.pace?.();
  }
  let where: ScoredWhere | undefined;
  try {
    where = await batch.score();
  } catch (error) {
    for (const a of added) results[a.k] = { ok: false, error };
    return { results };
  }
  for (const a of added) {
    try {
      results[a.k] = { ok: true, value: batch.served(a.series) };
    } catch (error) {
      results[a.k] = { ok: false, error };
    }
    await opts.pace?.();
  }
  return { results, where };
}

/** A series of an anomaly answer: its scores, or why it has none. Times in milliseconds. */
export interface AnomalySeries {
  labels: Labels;
  scores: Array<[t: number, score: number]>;
  anomalies: Array<[t: number, v: number, score: number]>;
  threshold: number | null;
  warning?: string;
}

/**
 * The anomaly answer for `range` from the series read with planAnomalyRead: each series' scores from the
 * range's start, or (too short) a warning; insufficient_history when every series is short, and any other
 * error of a series is the answer's.
 */
export async function answerAnomalies(
  model: AnomalyModel,
  range: RangeQuery,
  input: readonly ColumnSeries[],
  memo?: ScoreSession
): Promise<{ answer: { series: AnomalySeries[] }; where?: ScoredWhere }> {
  const { results, where } = await scoreSeries(model, input, {
    step: range.step,
    origin: range.start,
    from: range.start,
    memo,
  });
  let firstShortage: string | undefined;
  const out = results.map((r, k): AnomalySeries => {
    const labels = input[k].labels;
    if (r.ok) {
      return {
        labels,
        scores: r.value.scores.map(([t, v]) => [ms(t), v]),
        anomalies: r.value.anomalies.map(([t, v, sc]) => [ms(t), v, sc]),
        threshold: r.value.threshold,
      };
    }
    const e = r.error;
    if (!(e instanceof PrescalerError && e.code === 'insufficient_history')) throw e;
    firstShortage ??= e.message;
    return { labels, scores: [], anomalies: [], threshold: null, warning: e.message };
  });
  if (input.length > 0 && out.every((o) => o.warning)) {
    throw new PrescalerError('insufficient_history', firstShortage!);
  }
  return { answer: { series: out }, where };
}
