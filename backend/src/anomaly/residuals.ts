/**
 * Forecast residuals for the anomaly detector's `residual` feature: each point against what the
 * forecaster predicted for it from the past alone.
 *
 * The forecaster works at its own step (600 s for the shipped LSTM). A segment at a step that divides it
 * (60, 120, 300, 600 s, …) is averaged into the forecaster's buckets (aligned to the Unix epoch, as
 * `resample` aligns them); bucket j is forecast one step ahead from buckets …j−1 only (at most the
 * model's `historyPoints` of them), each window min-max scaled on itself and a non-negative series'
 * forecast held at 0 or above, as `/api/forecast` does for a range that long; every point of bucket j
 * gets its value minus that forecast. Nothing at or after a point's own bucket is read, so a score stays
 * past-only. Points whose bucket has less than the model's lookback before it get NaN (no forecast).
 */
import { MinMaxScaler } from '../series/scaler';
import type { BatchForecaster, HistoryWindow } from '../forecast/types';

/** Windows handed to the forecaster per call: bounds the scaled copies held at once. */
const BATCH = 512;

/** Whether residuals exist for a series at this step (the step divides the forecaster's). */
export function residualsAvailable(forecaster: BatchForecaster, step: number): boolean {
  const k = forecaster.step / step;
  return step > 0 && Number.isInteger(k) && k >= 1;
}

/**
 * `values[i]` − the forecast for its bucket, for an evenly spaced run starting at `start` (Unix seconds)
 * at `step`. Throws RangeError when `step` does not divide the forecaster's step.
 */
export async function forecastResiduals(
  forecaster: BatchForecaster,
  values: ArrayLike<number>,
  start: number,
  step: number
): Promise<Float64Array> {
  if (!residualsAvailable(forecaster, step)) {
    throw new RangeError(
      `forecast residuals need a step that divides the forecaster's ${forecaster.step} s, got ${step} s`
    );
  }
  const F = forecaster.step;
  const n = values.length;
  const out = new Float64Array(n).fill(NaN);
  if (n === 0) return out;

  // Bucket means; bucket j covers [(b0 + j)·F, (b0 + j + 1)·F).
  const b0 = Math.floor(start / F);
  const bucketOf = (i: number) => Math.floor((start + i * step) / F) - b0;
  const m = bucketOf(n - 1) + 1;
  const sums = new Float64Array(m);
  const counts = new Float64Array(m);
  for (let i = 0; i < n; i++) {
    const j = bucketOf(i);
    sums[j] += values[i];
    counts[j]++;
  }
  const buckets = new Float64Array(m);
  for (let j = 0; j < m; j++) buckets[j] = sums[j] / counts[j];

  const maxHistory = forecaster.historyPoints ?? forecaster.minHistory;
  const forecasts = new Float64Array(m).fill(NaN);
  const targets: number[] = [];
  for (let j = forecaster.minHistory; j < m; j++) targets.push(j);
  for (let from = 0; from < targets.length; from += BATCH) {
    const chunk = targets.slice(from, from + BATCH);
    const scalers: MinMaxScaler[] = [];
    const windows: HistoryWindow[] = chunk.map((j) => {
      const history = buckets.subarray(Math.max(0, j - maxHistory), j);
      const scaler = MinMaxScaler.fit(history);
      scalers.push(scaler);
      const scaled = new Float64Array(history.length);
      for (let k = 0; k < history.length; k++) scaled[k] = scaler.transform(history[k]);
      return { values: scaled, endTime: (b0 + j - 1) * F };
    });
    const predicted = await forecaster.predictBatch(windows);
    chunk.forEach((j, k) => {
      const floor = scalers[k].min >= 0 ? 0 : -Infinity; // a usage series never goes below zero
      forecasts[j] = Math.max(floor, scalers[k].inverse(predicted[k].mean[0]));
    });
  }
  for (let i = 0; i < n; i++) out[i] = values[i] - forecasts[bucketOf(i)];
  return out;
}
