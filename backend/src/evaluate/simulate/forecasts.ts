/**
 * Forecasts for every decision origin of a trace, computed up front in batches so a month of 15 s ticks
 * simulates in seconds (origins every step, or every `originEvery` seconds from shifted grids). Each origin sees only its own past: the series is resampled to the forecaster's
 * step (docs/definitions.md rules), each window is min-max scaled with a scaler fitted on every value up to and
 * including its origin (an expanding fit — no future leak), and the answer is mapped back to the trace's unit.
 */
import type { Point } from '../../series/types';
import { resample } from '../../series/resample';
import { MinMaxScaler } from '../../series/scaler';
import type { BatchForecaster, HistoryWindow } from '../../forecast/types';

/** Forecasts in the trace's own unit, one row per origin, origins ascending. */
export interface ForecastTrack {
  forecaster: string;
  step: number;
  horizons: number;
  /** Unix seconds of each origin (the start of the last bucket in the window, as in `HistoryWindow.endTime`). */
  origins: number[];
  /** origins.length × horizons, row-major; horizon h (1-based) is the mean of the bucket starting at origin + h × step. */
  mean: Float64Array;
  lower: Float64Array;
  upper: Float64Array;
}

export interface ForecastTrackOptions {
  /** History points per window; default all the model reads (`historyPoints`), at least minHistory + one day. */
  windowLength?: number;
  /** Windows per predictBatch call (bounds memory for the LSTM). Default 2048. */
  batchSize?: number;
  /**
   * Seconds between origins (a divisor of the step; default the step). The live loop forecasts every
   * evaluation interval from a grid ending at that moment: origins every 60 s replay that freshness, each
   * from the step grid shifted to end there (10 × the forecasts of one grid at 600 s).
   */
  originEvery?: number;
  /** No origins before this time (Unix seconds): a replay scored from later needs none (default all). */
  from?: number;
}

export async function forecastTrack(
  points: readonly Point[],
  forecaster: BatchForecaster,
  opts: ForecastTrackOptions = {}
): Promise<ForecastTrack> {
  const step = forecaster.step;
  const H = forecaster.horizons;
  const day = Math.round(86400 / step);
  const windowLength = Math.max(
    forecaster.minHistory,
    opts.windowLength ?? Math.max(forecaster.historyPoints ?? 0, forecaster.minHistory + day)
  );
  const batchSize = opts.batchSize ?? 2048;
  const every = opts.originEvery ?? step;
  const firstOrigin = opts.from ?? -Infinity;
  if (!(every > 0 && Number.isInteger(step / every)))
    throw new RangeError(`originEvery (${every} s) must divide the forecaster's step (${step} s)`);

  const rows: Array<{ origin: number; window: HistoryWindow; scaler: MinMaxScaler }> = [];
  for (let phase = 0; phase < step; phase += every) {
    let min = Infinity;
    let max = -Infinity;
    for (const seg of resample(points, step, { origin: phase })) {
      const vals = seg.values;
      for (let i = 0; i < vals.length; i++) {
        if (vals[i] < min) min = vals[i];
        if (vals[i] > max) max = vals[i];
        if (i + 1 < forecaster.minHistory || seg.start + i * step < firstOrigin) continue;
        const scaler = new MinMaxScaler({ min, max });
        const from = Math.max(0, i + 1 - windowLength);
        const w = new Float64Array(i + 1 - from);
        for (let j = from; j <= i; j++) w[j - from] = scaler.transform(vals[j]);
        const endTime = seg.start + i * step;
        rows.push({ origin: endTime, window: { values: w, endTime }, scaler });
      }
    }
  }
  // One time line across the shifted grids.
  rows.sort((a, b) => a.origin - b.origin);
  const origins = rows.map((r) => r.origin);
  const windows = rows.map((r) => r.window);
  const scalers = rows.map((r) => r.scaler);

  const n = origins.length;
  const mean = new Float64Array(n * H);
  const lower = new Float64Array(n * H);
  const upper = new Float64Array(n * H);
  for (let b = 0; b < n; b += batchSize) {
    const out = await forecaster.predictBatch(windows.slice(b, b + batchSize));
    out.forEach((f, k) => {
      const i = b + k;
      const s = scalers[i];
      for (let h = 0; h < H; h++) {
        mean[i * H + h] = s.inverse(f.mean[h]);
        lower[i * H + h] = s.inverse(f.lower[h]);
        upper[i * H + h] = s.inverse(f.upper[h]);
      }
    });
  }
  return { forecaster: forecaster.name, step, horizons: H, origins, mean, lower, upper };
}
