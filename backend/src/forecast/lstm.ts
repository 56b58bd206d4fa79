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
import { FastLstm, UnsupportedModelError } from './fast-lstm';

/**
 * Input features, one row per lookback step i of a window ending at e (the origin). Row i is also tied to
 * the time i + H (H = horizons), so the last H rows carry what is known about the targets e+1 … e+H. Values
 * enter as changes from the last value, like the target, so a level the training data never reached (a
 * test part far outside the scaler's range) does not push the network off its inputs; the level itself
 * enters once, clipped. The seasonal inputs are past-only baseline forecasts: seasonal naive (one day
 * before) and persistence moved along a daily profile averaged over up to `profileDays` days. How well
 * each of them and plain persistence did over the last day (RMS per horizon) is given too, so the network
 * can tell noisy, trending and seasonal series apart, and so is their inverse-MSE weighted combination.
 */
export const FEATURES = [
  'value_minus_last',
  'last_value_clipped',
  'time_of_day_sin',
  'time_of_day_cos',
  'day_before_target_minus_last',
  'has_day_before',
  'profile_target_minus_profile_now',
  'value_minus_profile',
  'profile_days',
  'combined_target_minus_last',
  'recent_change_rms',
  'recent_profile_rms',
  'recent_seasonal_rms',
];

export const FORECASTER_FORMAT = 'prescaler-lstm/2';

export const forecasterMetadataSchema = z.object({
  id: z.string(),
  version: z.string(),
  format: z.literal(FORECASTER_FORMAT),
  step: z.number().positive(),
  lookback: z.number().int().positive(),
  horizons: z.number().int().positive(),
  seasonPeriod: z.number().int().positive(),
  profileDays: z.number().int().nonnegative(),
  /** Points of history the features can use (lookback + profileDays seasons); fewer still work, less well. */
  historyPoints: z.number().int().positive(),
  features: z.array(z.string()),
  target: z.literal('delta-from-last'),
  scaler: z.object({ kind: z.literal('minmax'), fit: z.string() }),
  interval: z.object({
    nominal: z.number().gt(0).lt(1),
    lower: z.array(z.number()),
    upper: z.array(z.number()),
    /**
     * When set, lower/upper are in units of the window's recent H-step change RMS (floored at scaleFloor):
     * the band widens on volatile series and narrows on calm ones. Absent: lower/upper are scaled units.
     */
    scaledBy: z.literal('recent_change_rms').optional(),
    scaleFloor: z.number().positive().optional(),
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
  /** Most past days averaged into the daily profile (0: no profile). */
  profileDays: number;
}

/**
 * History points the features of one window can read: the lookback, `profileDays` whole seasons, and the
 * one point before them that the profile's 3-point average reaches.
 */
export function historyPoints(cfg: FeatureConfig): number {
  const { lookback: L, horizons: H, seasonPeriod: P, profileDays: K } = cfg;
  return Math.max(K * P + 1 + Math.max(L, P + H), 2 * P);
}

/** Root mean square of values[t] − values[t − lag] over the last `span` t ≤ end that have t − lag ≥ 0. */
export function recentRms(values: ArrayLike<number>, end: number, lag: number, span: number): number {
  const from = Math.max(lag, end - span + 1);
  if (from > end) return 0;
  let ss = 0;
  for (let t = from; t <= end; t++) ss += (values[t] - values[t - lag]) ** 2;
  return Math.sqrt(ss / (end - from + 1));
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
  if (H >= P) throw new RangeError(`horizons (${H}) must be shorter than a season (${P})`);
  const F = FEATURES.length;
  const first = end - L + 1;
  const last = values[end];
  // The daily profile is needed from `from` (the first row, or the start of the last day's h-step errors)
  // to end + H. It averages the same whole past days everywhere, as many as the earliest point has.
  const from = Math.min(first, end - P - H + 1);
  const days = from >= 1 ? Math.min(cfg.profileDays, Math.floor((from - 1) / P)) : 0;
  // Mean over those days of a 3-point average around t − d·P; since H < P it reads at most t − P + 1 ≤ end.
  const prof = new Float64Array(days > 0 ? end + H - from + 1 : 0);
  for (let k = 0; k < prof.length; k++) {
    let sum = 0;
    for (let d = 1; d <= days; d++) {
      const c = from + k - d * P;
      sum += values[c - 1] + values[c] + values[c + 1];
    }
    prof[k] = sum / (3 * days);
  }
  const profile = (t: number) => prof[t - from];
  const profileNow = days > 0 ? profile(end) : 0;

  // How three simple forecasts did over the last day, per horizon h: persistence (v[t−h]), persistence
  // moved along the profile (v[t−h] + profile(t) − profile(t−h)), and seasonal naive (v[t−P]).
  const persistRms = new Float64Array(H + 1);
  const profileRms = new Float64Array(H + 1);
  for (let h = 1; h <= H; h++) {
    persistRms[h] = recentRms(values, end, h, P);
    if (days > 0) {
      let ss = 0;
      // profile(t) and profile(t − h) read directly (q = t − from): through the closure, this loop was a
      // fifth of the features' time.
      for (let t = end - P + 1, q = t - from; t <= end; t++, q++) {
        const d = values[t] - values[t - h] - prof[q] + prof[q - h];
        ss += d * d;
      }
      profileRms[h] = Math.sqrt(ss / P);
    }
  }
  const seasonalRms = recentRms(values, end, P, P);
  // Inverse-MSE weights (Bates & Granger) of the three forecasts, per horizon: a ready-made combination
  // the network can take as it is or correct.
  const eps = 1e-6;
  const combined = (t: number, h: number): number => {
    let num = 0;
    let den = 1 / (persistRms[h] ** 2 + eps); // persistence: change 0
    if (t - P >= 0 && t - P <= end && end >= 2 * P - 1) {
      const w = 1 / (seasonalRms ** 2 + eps);
      num += w * (values[t - P] - last);
      den += w;
    }
    if (days > 0) {
      const w = 1 / (profileRms[h] ** 2 + eps);
      num += w * (profile(t) - profileNow);
      den += w;
    }
    return num / den;
  };

  const level = Math.min(Math.max(last, -1), 2);
  for (let j = 0; j < L; j++) {
    const i = first + j;
    const o = offset + j * F;
    const v = values[Math.max(i, 0)];
    const t = endTime - (L - 1 - j) * step;
    const phase = (2 * Math.PI * (((t % 86400) + 86400) % 86400)) / 86400;
    const target = i + H; // the time this row's target lands on
    const h = target > end ? target - end : H; // its horizon; rows before the last H use H
    const lag = target - P;
    const hasLag = lag >= 0 && lag <= end;
    out[o] = v - last;
    out[o + 1] = level;
    out[o + 2] = Math.sin(phase);
    out[o + 3] = Math.cos(phase);
    out[o + 4] = hasLag ? values[lag] - last : 0;
    out[o + 5] = hasLag ? 1 : 0;
    out[o + 6] = days > 0 ? profile(target) - profileNow : 0;
    out[o + 7] = days > 0 ? v - profile(i) : 0;
    out[o + 8] = cfg.profileDays > 0 ? days / cfg.profileDays : 0;
    out[o + 9] = combined(target, h);
    out[o + 10] = persistRms[h];
    out[o + 11] = profileRms[h];
    out[o + 12] = seasonalRms;
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
    this.historyPoints = metadata.historyPoints;
    this.fast = FastLstm.tryFrom(model);
  }

  /** The tfjs-free forward pass (fast-lstm.ts), or why this model has none and tfjs runs it. */
  readonly fast: FastLstm | UnsupportedModelError;

  /** Points of history the model reads when they exist (the API should fetch this much: × step seconds). */
  readonly historyPoints: number;

  get featureConfig(): FeatureConfig {
    const { step, lookback, horizons, seasonPeriod, profileDays } = this.metadata;
    return { step, lookback, horizons, seasonPeriod, profileDays };
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
    if (this.fast instanceof FastLstm) return this.fast.predict(input, windows.length);
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
    const { lower, upper, scaledBy, scaleFloor } = this.metadata.interval;
    const { seasonPeriod } = this.metadata;
    return windows.map((w, b) => {
      const end = w.values.length - 1;
      const last = w.values[end];
      const s = scaledBy ? Math.max(recentRms(w.values, end, H, seasonPeriod), scaleFloor ?? 0) : 1;
      const mean: number[] = [];
      const lo: number[] = [];
      const hi: number[] = [];
      for (let h = 0; h < H; h++) {
        const m = last + deltas[b * H + h];
        mean.push(m);
        lo.push(m + s * lower[h]);
        hi.push(m + s * upper[h]);
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
      // Keras' default; tfjs' own default (hard_sigmoid) has a different slope than Keras 3's, so say it.
      recurrentActivation: 'sigmoid',
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
  if (md.interval.scaledBy && !md.interval.scaleFloor) {
    throw new ModelFileError(`${file}: interval.scaledBy needs interval.scaleFloor`);
  }
  if (md.historyPoints !== historyPoints(md)) {
    throw new ModelFileError(
      `${file}: historyPoints ${md.historyPoints} should be ${historyPoints(md)} (see historyPoints())`
    );
  }
  if (md.features.join() !== FEATURES.join()) {
    throw new ModelFileError(
      `${file}: features ${md.features.join(',')} differ from this build's ${FEATURES.join(',')}`
    );
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
  if (
    inShape[1] !== metadata.lookback ||
    inShape[2] !== FEATURES.length ||
    outShape[1] !== metadata.horizons
  ) {
    model.dispose();
    throw new ModelFileError(
      `model in ${dir} takes [${inShape.slice(1)}] → [${outShape.slice(1)}], metadata says [${metadata.lookback},${FEATURES.length}] → [${metadata.horizons}]`
    );
  }
  return new LstmForecaster(model, metadata);
}
