/**
 * The training recipe of the shipped forecaster, shared by `npm run train` and `npm run evaluate -- --fit`:
 * split every series by time (the last 20 % is never read), cut windows balanced across datasets, fit the
 * LSTM, and describe the result in the metadata that `loadForecaster` checks.
 */
import * as crypto from 'node:crypto';
import { FEATURES, FORECASTER_FORMAT, LstmForecaster, historyPoints, type ForecasterMetadata } from './lstm';
import { tf } from './tf';
import { trainLstm, type TrainResult } from './train';
import { trainInWorker } from './train-worker';
import { mulberry32 } from '../series/random';
import { buildWindows, changeRms, splitSeries, type SeriesInput, type SkipReason } from './windows';

export interface DatasetInput {
  name: string;
  /** Recorded in the metadata when known (a digest of the file). */
  sha256?: string;
  series: SeriesInput[];
}

export interface FitOptions {
  id: string;
  /** Default: modelVersion() of the data and the trained weights. */
  version?: string;
  step: number;
  lookback: number;
  profileDays: number;
  units: number;
  seed: number;
  epochs: number;
  patience: number;
  batchSize: number;
  learningRate: number;
  huberDelta?: number;
  /**
   * Loss weight of a series' windows: 'inverse-change-rms' weighs them by 1 / (the series' hour-ahead change
   * RMS on its training part, floored at 0.01), so calm series count as much as volatile ones; 'equal': 1.
   */
  seriesWeight: 'inverse-change-rms' | 'equal';
  /** Most training windows from one series. */
  maxPerSeries: number;
  /** Most training windows from one dataset, shared evenly by its series (so 97 jobs do not drown 1 cluster). */
  maxPerDataset: number;
  maxSeconds: number;
  /** Part of each series (by count, in time order) training may read; the rest is never read. */
  trainFraction: number;
  nominal: number;
  onEpoch?: Parameters<typeof trainLstm>[2]['onEpoch'];
  onInfo?: (message: string) => void;
}

const pct = (x: number) => Math.round(x * 100);

export const FIT_DEFAULTS = {
  step: 600,
  lookback: 12,
  profileDays: 7,
  units: 32,
  seed: 42,
  epochs: 20,
  patience: 4,
  batchSize: 512,
  learningRate: 0.002,
  seriesWeight: 'inverse-change-rms' as const,
  maxPerSeries: 3000,
  maxPerDataset: 12000,
  // With the data loading before it, `npm run train` on all ten datasets stays under 10 minutes.
  maxSeconds: 9 * 60,
  trainFraction: 0.8,
  nominal: 0.8,
} satisfies Partial<FitOptions>;

/**
 * The training date and a digest of the data it saw and of the weights it learnt: two models with the same
 * version are the same model (the version is what recommendations record), and a retrain with another recipe
 * gets a new one even on the same day and data.
 */
export function modelVersion(
  datasets: DatasetInput[],
  weights: ArrayBufferView[] = [],
  date = new Date()
): string {
  const hash = crypto.createHash('sha256').update(datasets.map((d) => d.sha256 ?? d.name).join());
  for (const w of weights) hash.update(new Uint8Array(w.buffer, w.byteOffset, w.byteLength));
  return `${date.toISOString().slice(0, 10)}-${hash.digest('hex').slice(0, 8)}`;
}

export interface FitResult {
  forecaster: LstmForecaster;
  metadata: ForecasterMetadata;
  result: TrainResult;
}

export async function fitForecaster(datasets: DatasetInput[], opts: FitOptions): Promise<FitResult> {
  const cfg = {
    step: opts.step,
    lookback: opts.lookback,
    horizons: Math.round(3600 / opts.step),
    seasonPeriod: Math.round(86400 / opts.step),
    profileDays: opts.profileDays,
  };
  const split = [];
  const caps: number[] = [];
  const skipped: Array<{ name: string; reason: SkipReason }> = [];
  for (const d of datasets) {
    const r = splitSeries(d.series, { step: opts.step, trainFraction: opts.trainFraction });
    skipped.push(...r.skipped);
    const perSeries = Math.min(
      opts.maxPerSeries,
      Math.ceil(opts.maxPerDataset / Math.max(r.split.length, 1))
    );
    for (const s of r.split) {
      split.push(s);
      caps.push(perSeries);
    }
  }
  if (split.length === 0) throw new Error('no usable series (all constant or too short)');
  const rng = mulberry32(opts.seed);
  // Scored per series (docs/definitions.md takes the median of per-series RMSE), so the loss weighs each series'
  // windows by the inverse of its typical hour-ahead error: minimising Σ w·e² then tracks the sum of the
  // series' RMSEs instead of letting the most volatile series set the fit.
  const seriesWeight =
    opts.seriesWeight === 'inverse-change-rms'
      ? split.map((s) => 1 / Math.max(changeRms(s.train, cfg.horizons), 0.01))
      : undefined;
  const train = buildWindows(
    split.map((s) => s.train),
    cfg,
    { maxPerSeries: caps, rng, seriesWeight }
  );
  const val = buildWindows(
    split.map((s) => s.validation),
    cfg,
    { maxPerSeries: caps.map((c) => Math.ceil(c / 4)), rng, seriesWeight }
  );
  opts.onInfo?.(
    `${split.length} series (${skipped.length} skipped), ${train.count} training and ${val.count} validation windows`
  );
  // In a worker thread (train-worker.ts): a process that trains keeps its event loop free.
  const result = await trainInWorker(train, val, {
    ...cfg,
    units: opts.units,
    seed: opts.seed,
    epochs: opts.epochs,
    batchSize: opts.batchSize,
    learningRate: opts.learningRate,
    patience: opts.patience,
    maxSeconds: opts.maxSeconds,
    nominal: opts.nominal,
    huberDelta: opts.huberDelta,
    onEpoch: opts.onEpoch,
  });
  const weights = result.model.getWeights().map((t) => t.dataSync());
  const metadata: ForecasterMetadata = {
    id: opts.id,
    version: opts.version ?? modelVersion(datasets, weights),
    format: FORECASTER_FORMAT,
    ...cfg,
    historyPoints: historyPoints(cfg),
    features: FEATURES,
    target: 'delta-from-last',
    scaler: {
      kind: 'minmax',
      fit: 'per series, on the history given at inference; on the first 80 % of each series in training',
    },
    interval: result.interval,
    training: {
      datasets: datasets.map((d) => ({
        name: d.name,
        ...(d.sha256 ? { sha256: d.sha256 } : {}),
        series: d.series.length,
      })),
      seriesUsed: split.length,
      seriesSkipped: skipped,
      windows: { train: train.count, validation: val.count },
      split: `per series by time: first ${pct(opts.trainFraction * 0.85)} % train, next ${pct(opts.trainFraction * 0.15)} % validation, last ${pct(1 - opts.trainFraction)} % never read (test part)`,
      seed: opts.seed,
      units: opts.units,
      loss: opts.huberDelta ? `huber(${opts.huberDelta})` : 'mse',
      seriesWeight: opts.seriesWeight,
      maxPerSeries: opts.maxPerSeries,
      maxPerDataset: opts.maxPerDataset,
      epochs: result.epochs,
      bestEpoch: result.bestEpoch,
      seconds: Math.round(result.seconds),
    },
    validation: {
      loss: result.valLoss,
      rmse: result.validation.rmse,
      persistenceRmse: result.validation.persistenceRmse,
      intervalCoverage: result.validation.coverage,
    },
    libraries: { backend: tf.getBackend() },
  };
  return { forecaster: new LstmForecaster(result.model, metadata), metadata, result };
}
