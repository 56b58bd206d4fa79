/** What every forecaster (the LSTM and the baselines) answers, in the scaled units of its input. */

export interface HistoryWindow {
  /** Scaled values (min-max per series), oldest first, evenly spaced at the forecaster's step. */
  values: ArrayLike<number>;
  /** Unix seconds of the last value (the forecast origin). */
  endTime: number;
}

export interface QuantileForecast {
  /** Point forecast for horizons 1..H steps after `endTime`. */
  mean: number[];
  /** Lower and upper ends of the prediction interval at the model's nominal coverage. */
  lower: number[];
  upper: number[];
}

export interface BatchForecaster {
  readonly name: string;
  /** Seconds between points the model expects and predicts. */
  readonly step: number;
  /** Number of horizons (steps ahead) it predicts. */
  readonly horizons: number;
  /** Fewest history points a window must have. */
  readonly minHistory: number;
  /** Most history points the model reads (seasonal inputs look days back); default `minHistory`. */
  readonly historyPoints?: number;
  predictBatch(windows: HistoryWindow[]): Promise<QuantileForecast[]>;
}

/** Seconds of history worth giving a forecaster: all it reads, and at least a day. */
export function historySeconds(f: BatchForecaster): number {
  return Math.max(86400, (f.historyPoints ?? f.minHistory) * f.step);
}
