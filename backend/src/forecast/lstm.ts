/**
 * The global multi-horizon LSTM forecaster: its input features, its architecture, loading it from
 * `models/forecaster/` and batched inference. One model serves every series: each window is min-max
 * scaled per series, and the network predicts the change from the last value for horizons 1..H.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import type { BatchForecaster, HistoryWindow, QuantileForecast } from './types';
import { fileSystemHandler, ModelFileError } from './io';
import { initTf, tf } from './tf';

export const FEATURES = ['value', 'time_of_day_sin', 'time_of_day_cos', 'value_one_day_before_target', 'has_day_before'];

export const forecasterMetadataSchema = z.object({
  id: z.string(),
  version: z.string(),
  format: z.literal('prescaler-lstm/1'),
  step: z.number().positive(),
  lookback: z.number().int().positive(),
  horizons: z.number().int().positive(),
  seasonPeriod: z.number().int().positive(),
  features: z.array(z.string()),
  target: z.literal('delta-from-last'),
  scaler: z.object({ kind: z.literal('minmax'), fit: z.string() }),
  interval: z.object({
    nominal: z.number().gt(0).lt(1),
    lower: z.array(z.number()),
    upper: z.array(z.number()),
  }),
  training: z.record(z.unknown()).optional(),
  validation: z.record(z.unknown()).optional(),
  libraries: z.record(z.string()).optional(),
});
export type ForecasterMetadata = z.infer<typeof forecasterMetadataSchema>;

export interface FeatureConfig {
  step: number;
  lookback: number;
  horizons: number;
  seasonPeriod: number;
}

/**
 * Writes the lookback × features block for a window ending at `values[end]` into `out` at `offset`.
 * Only values at or before `end` are read: features come from the past.
 */
export function writeFeatures(
  values: ArrayLike<number>,
  end: number,
  endTime: number,
  cfg: FeatureConfig,
  out: Float32Array,
  offset: number
): void {
  const { lookback: L, horizons: H, seasonPeriod: P, step } = cfg;
  const F = FEATURES.length;
  for (let j = 0; j < L; j++) {
    const i = end - L + 1 + j;
    const o = offset + j * F;
    const v = values[Math.max(i, 0)];
    const t = endTime - (L - 1 - j) * step;
    const phase = (2 * Math.PI * (((t % 86400) + 86400) % 86400)) / 86400;
    const lag = i + H - P; // one day before the time this row's target lands on
    const hasLag = lag >= 0 && lag <= end;
    out[o] = v;
    out[o + 1] = Math.sin(phase);
    out[o + 2] = Math.cos(phase);
    out[o + 3] = hasLag ? values[lag] : v;
    out[o + 4] = hasLag ? 1 : 0;
  }
}

export class LstmForecaster implements BatchForecaster {
  readonly name = 'lstm';
  readonly step: number;
  readonly horizons: number;
  readonly minHistory: number;

  constructor(
    readonly model: tf.LayersModel,
    readonly metadata: ForecasterMetadata
  ) {
    this.step = metadata.step;
    this.horizons = metadata.horizons;
    this.minHistory = metadata.lookback;
  }

  get featureConfig(): FeatureConfig {
    const { step, lookback, horizons, seasonPeriod } = this.metadata;
    return { step, lookback, horizons, seasonPeriod };
  }

  /** Raw network output (scaled change from the last value), batch × horizons. */
  async predictDeltas(windows: HistoryWindow[]): Promise<Float32Array> {
    const cfg = this.featureConfig;
    const F = FEATURES.length;
    const input = new Float32Array(windows.length * cfg.lookback * F);
    windows.forEach((w, b) => {
      if (w.values.length < cfg.lookback) {
        throw new RangeError(`window ${b} has ${w.values.length} points, the model needs ${cfg.lookback}`);
      }
      writeFeatures(w.values, w.values.length - 1, w.endTime, cfg, input, b * cfg.lookback * F);
    });
    const x = tf.tensor3d(input, [windows.length, cfg.lookback, F]);
    try {
      const y = this.model.predict(x) as tf.Tensor;
      try {
        return (await y.data()) as Float32Array;
      } finally {
        y.dispose();
      }
    } finally {
      x.dispose();
    }
  }

  async predictBatch(windows: HistoryWindow[]): Promise<QuantileForecast[]> {
    if (windows.length === 0) return [];
    const H = this.horizons;
    const deltas = await this.predictDeltas(windows);
    const { lower, upper } = this.metadata.interval;
    return windows.map((w, b) => {
      const last = w.values[w.values.length - 1];
      const mean: number[] = [];
      const lo: number[] = [];
      const hi: number[] = [];
      for (let h = 0; h < H; h++) {
        const m = last + deltas[b * H + h];
        mean.push(m);
        lo.push(m + lower[h]);
        hi.push(m + upper[h]);
      }
      return { mean, lower: lo, upper: hi };
    });
  }
}

export function buildLstm(cfg: FeatureConfig & { units: number; seed: number }): tf.LayersModel {
  const model = tf.sequential();
  model.add(
    tf.layers.lstm({
      units: cfg.units,
      inputShape: [cfg.lookback, FEATURES.length],
      kernelInitializer: tf.initializers.glorotUniform({ seed: cfg.seed }),
      recurrentInitializer: tf.initializers.glorotUniform({ seed: cfg.seed + 1 }),
    })
  );
  model.add(
    tf.layers.dense({
      units: cfg.horizons,
      kernelInitializer: tf.initializers.glorotUniform({ seed: cfg.seed + 2 }),
    })
  );
  return model;
}

export function readForecasterMetadata(dir: string): ForecasterMetadata {
  const file = path.join(dir, 'metadata.json');
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new ModelFileError(`cannot read ${file}: ${(e as Error).message}`);
  }
  const parsed = forecasterMetadataSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ModelFileError(`${file}: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  const md = parsed.data;
  if (md.interval.lower.length !== md.horizons || md.interval.upper.length !== md.horizons) {
    throw new ModelFileError(`${file}: interval bounds must have one entry per horizon (${md.horizons})`);
  }
  if (md.features.join() !== FEATURES.join()) {
    throw new ModelFileError(`${file}: features ${md.features.join(',')} differ from this build's ${FEATURES.join(',')}`);
  }
  return md;
}

/** Loads `dir/metadata.json` and the layers model beside it, checking that the two agree. */
export async function loadForecaster(dir: string): Promise<LstmForecaster> {
  await initTf();
  const metadata = readForecasterMetadata(dir);
  let model: tf.LayersModel;
  try {
    model = await tf.loadLayersModel(fileSystemHandler(dir));
  } catch (e) {
    if (e instanceof ModelFileError) throw e;
    throw new ModelFileError(`cannot load the layers model in ${dir}: ${(e as Error).message}`);
  }
  const inShape = model.inputs[0].shape;
  const outShape = model.outputs[0].shape;
  if (inShape[1] !== metadata.lookback || inShape[2] !== FEATURES.length || outShape[1] !== metadata.horizons) {
    model.dispose();
    throw new ModelFileError(
      `model in ${dir} takes [${inShape.slice(1)}] → [${outShape.slice(1)}], metadata says [${metadata.lookback},${FEATURES.length}] → [${metadata.horizons}]`
    );
  }
  return new LstmForecaster(model, metadata);
}
