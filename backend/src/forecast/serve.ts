/**
 * Turns the series a query returned into forecasts: resample to the model's step, scale each series on
 * its own history, predict every series in one batch, scale back. Pure apart from the model call.
 */
import { PrescalerError } from '../errors';
import { toColumns } from '../series/columns';
import { resampleColumns } from '../series/resample';
import { MinMaxScaler } from '../series/scaler';
import type { ColumnSeries, Labels, Series } from '../series/types';
import type { BatchForecaster, HistoryWindow } from './types';

/** [t seconds, mean, lower, upper]: one forecast point and its band (the API answers t in ms: contract ms). */
export type ForecastPoint = [t: number, v: number, lower: number, upper: number];

export interface SeriesForecast {
  labels: Labels;
  forecast: ForecastPoint[];
  /** Set when this series could not be forecast (the others still are). */
  warning?: string;
}

export interface ForecastOptions {
  /** Seconds ahead; rounded up to whole model steps. */
  horizon: number;
  /** Bucket alignment for resampling, normally the query's start. */
  origin: number;
}

/**
 * Whether a series already is what resampling it would give: at least `minPoints` finite values, one on
 * every step of the grid through `origin`, none missing. Its one segment is then the series itself.
 */
export function onGrid(
  times: ArrayLike<number>,
  values: ArrayLike<number>,
  step: number,
  origin: number,
  minPoints: number
): boolean {
  return gridRange(times, values, step, origin, minPoints) !== undefined;
}

/** `onGrid`'s test and, when it passes, the series' least and greatest values, in one pass. */
function gridRange(
  times: ArrayLike<number>,
  values: ArrayLike<number>,
  step: number,
  origin: number,
  minPoints: number
): { min: number; max: number } | undefined {
  const n = times.length;
  if (values.length !== n || n < Math.max(1, minPoints) || (times[0] - origin) % step !== 0) return undefined;
  let min = Infinity;
  let max = -Infinity;
  let prev = times[0] - step;
  for (let i = 0; i < n; i++) {
    const t = times[i];
    const v = values[i];
    // NaN fails both comparisons below, ±Infinity the last; either way the series is not on the grid.
    if (t - prev !== step || !(v - v === 0)) return undefined;
    prev = t;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return { min, max };
}

/** The last `count` of `values` (all of them if fewer), scaled into a new array. */
function scaledTail(values: ArrayLike<number>, count: number, scaler: MinMaxScaler): Float64Array {
  const from = Math.max(0, values.length - count);
  const out = new Float64Array(values.length - from);
  if (scaler.isConstant) return out; // transform maps everything to 0
  const { min, range } = scaler;
  for (let i = 0; i < out.length; i++) out[i] = (values[from + i] - min) / range; // = scaler.transform
  return out;
}

/** The furthest horizon a forecaster answers, in seconds. */
export function maxHorizon(f: BatchForecaster): number {
  return f.horizons * f.step;
}

export async function forecastSeries(
  forecaster: BatchForecaster,
  series: ReadonlyArray<Series | ColumnSeries>,
  opts: ForecastOptions
): Promise<SeriesForecast[]> {
  const steps = Math.max(1, Math.ceil(opts.horizon / forecaster.step - 1e-9));
  if (steps > forecaster.horizons) {
    throw new PrescalerError(
      'bad_request',
      `horizon ${opts.horizon}s exceeds the model's ${maxHorizon(forecaster)}s`
    );
  }

  interface Prepared {
    scaler: MinMaxScaler;
    nonNegative: boolean;
  }
  const windows: HistoryWindow[] = [];
  // The features read no further back than this (the scaler is still fitted on all of the history).
  const read = forecaster.historyPoints ?? Infinity;
  const prepared: Array<Prepared | string> = series.map((s) => {
    const cols = 'times' in s ? s : toColumns(s);
    const grid = gridRange(cols.times, cols.values, forecaster.step, opts.origin, forecaster.minHistory);
    if (grid) {
      // Already one evenly spaced run on the model's grid (what Prometheus answers for a query at the
      // model's step over data without holes): resampling would only copy it, through JS arrays.
      const scaler = new MinMaxScaler(grid);
      windows.push({
        values: scaledTail(cols.values, read, scaler),
        endTime: cols.times[cols.times.length - 1],
      });
      return { scaler, nonNegative: grid.min >= 0 };
    }
    const segments = resampleColumns(cols.times, cols.values, forecaster.step, { origin: opts.origin });
    const last = segments[segments.length - 1];
    if (!last || last.values.length < forecaster.minHistory) {
      const have = last ? last.values.length : 0;
      return (
        `history too short: the latest contiguous stretch has ${have} points at ${forecaster.step}s, ` +
        `the model needs ${forecaster.minHistory}`
      );
    }
    // Fitted on every segment without concatenating them, scaled into a typed array: this runs for every
    // series of a query (1000 on a dashboard), so allocations here show in the request time.
    const fits = segments.map((seg) => MinMaxScaler.fit(seg.values));
    const scaler = new MinMaxScaler({
      min: Math.min(...fits.map((f) => f.min)),
      max: Math.max(...fits.map((f) => f.max)),
    });
    windows.push({
      values: scaledTail(last.values, read, scaler),
      endTime: last.start + (last.values.length - 1) * last.step,
    });
    return { scaler, nonNegative: scaler.min >= 0 };
  });

  if (series.length > 0 && windows.length === 0) {
    throw new PrescalerError('insufficient_history', prepared[0] as string);
  }
  const predictions = await forecaster.predictBatch(windows);

  let w = 0;
  return series.map((s, i) => {
    const p = prepared[i];
    if (typeof p === 'string') return { labels: s.labels, forecast: [], warning: p };
    const win = windows[w];
    const pred = predictions[w++];
    const floor = p.nonNegative ? 0 : -Infinity; // a usage series never goes below zero
    const forecast: ForecastPoint[] = [];
    for (let h = 0; h < steps; h++) {
      const mean = Math.max(floor, p.scaler.inverse(pred.mean[h]));
      const lower = Math.max(floor, p.scaler.inverse(pred.lower[h]));
      const upper = Math.max(mean, p.scaler.inverse(pred.upper[h]));
      forecast.push([win.endTime + (h + 1) * forecaster.step, mean, Math.min(lower, mean), upper]);
    }
    return { labels: s.labels, forecast };
  });
}
