/**
 * The forecast use case: which reads a forecast needs, the model run over what was read, and the answer.
 * `/api/forecast` (http/routes/forecast.ts) plans, reads and answers through here; the evaluation loop
 * forecasts its targets through `forecastEach`. No HTTP here: the route validates the request, reads
 * through the history cache, keeps answers and writes the body.
 */
import { PrescalerError } from '../errors';
import { firstIndexAtOrAfter } from '../series/columns';
import { labelsKey } from '../series/labels';
import type { ColumnSeries } from '../series/types';
import { settleEach } from '../sources/selector-groups';
import type { RangeQuery } from '../sources/types';
import type { LstmForecaster } from './lstm';
import { forecastSeries, maxHorizon, type SeriesForecast } from './serve';
import { historySeconds } from './types';

/** `horizon` when a forecast request gives none (docs/api.md "Routes"). */
export const DEFAULT_HORIZON_SECONDS = 3600;

/** Windows per forecaster call in `forecastEach` (~29 µs each here): the model runs on the event loop. */
export const FORECAST_BATCH = 50;

/** The horizon asked for, or docs/api.md's default (all the model has when it looks less far ahead). */
export function forecastHorizon(forecaster: LstmForecaster, asked?: number): number {
  const horizon = asked ?? Math.min(DEFAULT_HORIZON_SECONDS, maxHorizon(forecaster));
  if (!(horizon > 0)) throw new PrescalerError('bad_request', `horizon: must be > 0, got ${horizon}`);
  if (horizon > maxHorizon(forecaster)) {
    throw new PrescalerError('bad_request', `horizon: at most ${maxHorizon(forecaster)}s, got ${horizon}s`);
  }
  return horizon;
}

/**
 * What a forecast of `range` reads. The model reads days of history (its seasonal inputs) at its own step;
 * the answer shows the range asked for. One read serves both when the step fits the model and the longer
 * range fits the points limit (finer data is averaged into the model's buckets): the range extended back
 * on its own grid, so the points shown are the ones asked for. Otherwise the history the model reads is a
 * second read at its step.
 */
export type ForecastPlan =
  | { kind: 'one'; range: RangeQuery; horizon: number; read: RangeQuery }
  | { kind: 'two'; range: RangeQuery; horizon: number; read: RangeQuery; history: RangeQuery };

export function planForecast(
  forecaster: LstmForecaster,
  range: RangeQuery,
  opts: { horizon: number; maxPoints: number }
): ForecastPlan {
  const { horizon } = opts;
  const lookBack = Math.max(0, range.start - (range.end - historySeconds(forecaster)));
  const inputStart = range.start - Math.ceil(lookBack / range.step) * range.step;
  const extendedPoints = Math.floor((range.end - inputStart) / range.step) + 1;
  if (range.step <= forecaster.step && extendedPoints <= opts.maxPoints)
    return { kind: 'one', range, horizon, read: { ...range, start: inputStart } };
  const history = { ...range, start: range.end - historySeconds(forecaster), step: forecaster.step };
  return { kind: 'two', range, horizon, read: range, history };
}

/** A series of the answer: the samples shown and the forecast from the range's start. */
export interface ShownSeries {
  series: ColumnSeries;
  /** Index of the first sample shown as `actual` (the samples before it were read as model input only). */
  from: number;
  /** Its forecast; undefined when the model-step read did not return this series. */
  forecast: SeriesForecast | undefined;
}

/** What was read for a plan, and the answer from it (computed on demand: it may be kept from before). */
export interface ForecastInputs {
  /** Every series read, in order: with the plan, all the answer depends on. */
  inputs: ColumnSeries[];
  /** The plan's shape, for keys of kept answers: 'one', or 'two/<series shown>'. */
  shape: string;
  /** Runs the model: the series shown, in the order read, with their forecasts. */
  answer(): Promise<ShownSeries[]>;
}

/**
 * Reads what `plan` says with `read`: one read, or the range shown and then the model's history, which
 * `check` may refuse first (the request's limits).
 */
export async function readForecast(
  forecaster: LstmForecaster,
  plan: ForecastPlan,
  read: (r: RangeQuery) => Promise<ColumnSeries[]>,
  check: (r: RangeQuery) => RangeQuery = (r) => r
): Promise<ForecastInputs> {
  const { range, horizon } = plan;
  const forecastOf = (input: ColumnSeries[]) =>
    forecastSeries(forecaster, input, { horizon, origin: range.start });
  if (plan.kind === 'one') {
    const input = await read(plan.read);
    return {
      inputs: input,
      shape: 'one',
      answer: async () => {
        const forecasts = await forecastOf(input); // in the order of `input`
        return input.map((series, i) => ({
          series,
          from: firstIndexAtOrAfter(series.times, range.start),
          forecast: forecasts[i],
        }));
      },
    };
  }
  const series = await read(plan.read);
  const input = await read(check(plan.history));
  return {
    inputs: [...series, ...input],
    shape: `two/${series.length}`,
    answer: async () => {
      const byLabels = new Map((await forecastOf(input)).map((f) => [labelsKey(f.labels), f]));
      return series.map((s) => ({ series: s, from: 0, forecast: byLabels.get(labelsKey(s.labels)) }));
    },
  };
}

/**
 * Forecasts of many series read up to `now` (the evaluation loop's targets), each from the history
 * /api/forecast gives it (its scaler is fitted on it), as far ahead as the model looks: FORECAST_BATCH per
 * model call with the event loop free between calls (a call of 1000 windows holds it for a few hundred ms
 * here). Each series gets its forecast or its own error.
 */
export async function forecastEach(
  forecaster: LstmForecaster,
  series: readonly ColumnSeries[],
  opts: { now: number; origin: number }
): Promise<Array<{ ok: true; value: SeriesForecast } | { ok: false; error: unknown }>> {
  const historyStart = opts.now - historySeconds(forecaster);
  const run = { horizon: maxHorizon(forecaster), origin: opts.origin };
  const inputs = series.map((s) => {
    const from = firstIndexAtOrAfter(s.times, historyStart);
    return { labels: s.labels, times: s.times.subarray(from), values: s.values.subarray(from) };
  });
  const out: Array<{ ok: true; value: SeriesForecast } | { ok: false; error: unknown }> = [];
  for (let from = 0; from < inputs.length; from += FORECAST_BATCH) {
    const batch = inputs.slice(from, from + FORECAST_BATCH);
    try {
      for (const f of await forecastSeries(forecaster, batch, run)) out.push({ ok: true, value: f });
    } catch (e) {
      if (e instanceof PrescalerError && e.code === 'insufficient_history') {
        // No series of the batch had enough history: each gets its own reason (no model call is made).
        for (const s of batch) {
          const [one] = await settleEach(
            [s],
            1,
            async (x) => (await forecastSeries(forecaster, [x], run))[0]
          );
          out.push(one);
        }
      } else for (let k = 0; k < batch.length; k++) out.push({ ok: false, error: e });
    }
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  return out;
}
