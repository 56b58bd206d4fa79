/**
 * The interface the backtest (and anything else that scores forecasters on many origins) speaks: a model is
 * fitted on training parts and then asked, in batches, for forecasts at forecast origins. A BatchForecaster
 * (the LSTM) plugs in through `fromBatchForecaster`.
 */
import type { BatchForecaster, HistoryWindow } from './types';

/** One contiguous, evenly spaced run of scaled values of a series' training part. */
export interface TrainingSegment {
  /** Unix seconds of values[0]. */
  start: number;
  values: Float64Array;
}

/** What a model may learn from: per series, its scaled training part split at gaps. */
export interface TrainingPart {
  name: string;
  segments: TrainingSegment[];
}

export interface ForecastOrigin {
  /** Index of the series in the list the model was fitted on. */
  series: number;
  /** Identifies the origin's segment within its series; origins of one segment share history prefixes. */
  segment: number;
  /**
   * Scaled values of the segment from its start up to and including the origin, oldest first. It never
   * reaches past the origin, so a model cannot see what it forecasts.
   */
  history: Float64Array;
  /** Unix seconds of the origin (the last history value). */
  time: number;
}

export interface OriginForecast {
  /** Point forecasts for 1..H steps ahead, scaled. */
  mean: ArrayLike<number>;
  /** Prediction interval, when the model gives one. */
  lower?: ArrayLike<number>;
  upper?: ArrayLike<number>;
}

export interface FitContext {
  /** Seconds between values. */
  step: number;
  /** Steps ahead that will be asked for. */
  horizons: number;
}

export interface ForecastModel {
  readonly name: string;
  fit?(parts: TrainingPart[], ctx: FitContext): void | Promise<void>;
  /** One forecast per origin, in order; `horizons` steps each. */
  predict(origins: ForecastOrigin[], horizons: number): OriginForecast[] | Promise<OriginForecast[]>;
}

/**
 * Wraps a BatchForecaster (scaled windows in, mean/lower/upper out). The forecaster gets the origin's
 * in-segment history (at most `maxHistory` points, a view, not a copy) and reads what it needs from its end.
 */
export function fromBatchForecaster(
  forecaster: BatchForecaster,
  opts: { step: number; maxHistory?: number }
): ForecastModel {
  if (forecaster.step !== opts.step) {
    throw new RangeError(
      `${forecaster.name} forecasts at step ${forecaster.step} s, the backtest runs at ${opts.step} s`
    );
  }
  const maxHistory = opts.maxHistory ?? Infinity;
  return {
    name: forecaster.name,
    predict(origins, horizons) {
      if (forecaster.horizons < horizons) {
        throw new RangeError(
          `${forecaster.name} predicts ${forecaster.horizons} horizons, ${horizons} asked`
        );
      }
      const windows: HistoryWindow[] = origins.map((o) => {
        if (o.history.length < forecaster.minHistory) {
          throw new RangeError(
            `${forecaster.name} needs ${forecaster.minHistory} points of history, got ${o.history.length}`
          );
        }
        const from = Math.max(0, o.history.length - maxHistory);
        return { values: o.history.subarray(from), endTime: o.time };
      });
      return forecaster.predictBatch(windows);
    },
  };
}
