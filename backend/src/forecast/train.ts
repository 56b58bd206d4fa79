/**
 * Fits the global LSTM on training windows with early stopping on the validation windows, then
 * calibrates its prediction interval from validation residuals (split conformal: per-horizon empirical
 * quantiles of actual − forecast), so the band's coverage is measured, not assumed.
 */
import { FEATURES, buildLstm, type FeatureConfig } from './lstm';
import { initTf, tf } from './tf';
import type { WindowSet } from './windows';
import { mulberry32 } from '../series/random';

export interface TrainOptions extends FeatureConfig {
  units: number;
  seed: number;
  epochs: number;
  batchSize: number;
  learningRate: number;
  patience: number;
  /** Time budget: no epoch is started that would, at the last epoch's pace, end after this many seconds. */
  maxSeconds: number;
  /** Nominal coverage of the prediction interval. */
  nominal: number;
  /**
   * Floor of the per-window scale of the prediction interval (the recent H-step change RMS, scaled units),
   * so a series that sat flat for a day still gets a band. Default 0.01 (1 % of the training range).
   */
  intervalScaleFloor?: number;
  /** Training loss: squared error, or Huber with this delta (scaled units). Default squared error. */
  huberDelta?: number;
  onEpoch?: (e: { epoch: number; epochs: number; loss: number; valLoss: number; seconds: number }) => void;
}

export interface TrainResult {
  model: tf.LayersModel;
  epochs: number;
  bestEpoch: number;
  trainLoss: number;
  valLoss: number;
  interval: {
    nominal: number;
    lower: number[];
    upper: number[];
    scaledBy: 'recent_change_rms';
    scaleFloor: number;
  };
  /** Validation RMSE per horizon (scaled units), the model and persistence. */
  validation: { rmse: number[]; persistenceRmse: number[]; coverage: number[] };
  seconds: number;
}

function quantile(sorted: Float32Array | number[], q: number): number {
  if (sorted.length === 0) return 0;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

function shuffleWindows(w: WindowSet, cfg: FeatureConfig, rng: () => number): WindowSet {
  const F = FEATURES.length;
  const stride = cfg.lookback * F;
  const order = Array.from({ length: w.count }, (_, i) => i);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  const x = new Float32Array(w.x.length);
  const y = new Float32Array(w.y.length);
  const last = new Float32Array(w.count);
  order.forEach((src, dst) => {
    x.set(w.x.subarray(src * stride, (src + 1) * stride), dst * stride);
    y.set(w.y.subarray(src * cfg.horizons, (src + 1) * cfg.horizons), dst * cfg.horizons);
    last[dst] = w.last[src];
  });
  return { x, y, last, count: w.count };
}

async function predictAll(
  model: tf.LayersModel,
  w: WindowSet,
  cfg: FeatureConfig,
  batch = 4096
): Promise<Float32Array> {
  const F = FEATURES.length;
  const out = new Float32Array(w.count * cfg.horizons);
  for (let s = 0; s < w.count; s += batch) {
    const n = Math.min(batch, w.count - s);
    const x = tf.tensor3d(w.x.subarray(s * cfg.lookback * F, (s + n) * cfg.lookback * F), [
      n,
      cfg.lookback,
      F,
    ]);
    const y = model.predict(x) as tf.Tensor;
    out.set((await y.data()) as Float32Array, s * cfg.horizons);
    x.dispose();
    y.dispose();
  }
  return out;
}

export async function trainLstm(train: WindowSet, val: WindowSet, opts: TrainOptions): Promise<TrainResult> {
  await initTf();
  if (train.count === 0)
    throw new Error('no training windows: every series is shorter than lookback + horizons');
  if (val.count === 0)
    throw new Error('no validation windows: the series are too short to hold a validation part');
  const t0 = Date.now();
  const F = FEATURES.length;
  const rng = mulberry32(opts.seed);
  const model = buildLstm({ ...opts });
  const delta = opts.huberDelta;
  const optimizer = tf.train.adam(opts.learningRate);
  model.compile({
    optimizer,
    loss: delta
      ? (yTrue: tf.Tensor, yPred: tf.Tensor) => tf.losses.huberLoss(yTrue, yPred, undefined, delta)
      : 'meanSquaredError',
  });

  const xv = tf.tensor3d(val.x, [val.count, opts.lookback, F]);
  const yv = tf.tensor2d(val.y, [val.count, opts.horizons]);
  let best = Infinity;
  let bestEpoch = -1;
  let bestWeights: tf.Tensor[] | undefined;
  let epochsRun = 0;
  let lastTrainLoss = NaN;
  let lastEpochEnd = 0;
  try {
    for (let epoch = 0; epoch < opts.epochs; epoch++) {
      // Our own seeded shuffle each epoch: tfjs' internal shuffle uses Math.random.
      const shuffled = shuffleWindows(train, opts, rng);
      const xt = tf.tensor3d(shuffled.x, [shuffled.count, opts.lookback, F]);
      const yt = tf.tensor2d(shuffled.y, [shuffled.count, opts.horizons]);
      const h = await model.fit(xt, yt, { batchSize: opts.batchSize, epochs: 1, shuffle: false, verbose: 0 });
      xt.dispose();
      yt.dispose();
      lastTrainLoss = h.history.loss[0] as number;
      const valLoss = tf.tidy(() => (model.evaluate(xv, yv, { batchSize: 4096 }) as tf.Scalar).dataSync()[0]);
      epochsRun = epoch + 1;
      opts.onEpoch?.({
        epoch: epochsRun,
        epochs: opts.epochs,
        loss: lastTrainLoss,
        valLoss,
        seconds: (Date.now() - t0) / 1000,
      });
      if (valLoss < best - 1e-7) {
        best = valLoss;
        bestEpoch = epochsRun;
        bestWeights?.forEach((t) => t.dispose());
        bestWeights = model.getWeights().map((t) => t.clone());
      } else {
        if (epochsRun - bestEpoch >= opts.patience) break;
        // Reduce on plateau: a smaller step usually finds the lower validation loss a noisy one jumps over.
        // (tfjs marks the field protected but reads it on every step.)
        (optimizer as unknown as { learningRate: number }).learningRate /= 2;
      }
      // Stop when another epoch as long as the last one would overrun the budget.
      const elapsed = (Date.now() - t0) / 1000;
      if (elapsed + (elapsed - lastEpochEnd) > opts.maxSeconds) break;
      lastEpochEnd = elapsed;
    }
  } finally {
    xv.dispose();
    yv.dispose();
  }
  if (bestWeights) {
    model.setWeights(bestWeights);
    bestWeights.forEach((t) => t.dispose());
  }

  // Conformal band and validation figures from the restored best model.
  const pred = await predictAll(model, val, opts);
  const H = opts.horizons;
  // Normalised split conformal: residuals are divided by each window's recent change RMS (read off its
  // last feature row), so the band is wide where the series moves a lot and narrow where it is calm.
  const scaleFloor = opts.intervalScaleFloor ?? 0.01;
  const scaleAt = (opts.lookback - 1) * F + FEATURES.indexOf('recent_change_rms');
  const scale = Float32Array.from({ length: val.count }, (_, k) =>
    Math.max(val.x[k * opts.lookback * F + scaleAt], scaleFloor)
  );
  const lower: number[] = [];
  const upper: number[] = [];
  const rmse: number[] = [];
  const persistenceRmse: number[] = [];
  const coverage: number[] = [];
  const alpha = (1 - opts.nominal) / 2;
  for (let h = 0; h < H; h++) {
    const res = new Float32Array(val.count);
    let se = 0;
    let sp = 0;
    for (let k = 0; k < val.count; k++) {
      const r = val.y[k * H + h] - pred[k * H + h];
      res[k] = r / scale[k];
      se += r * r;
      sp += val.y[k * H + h] ** 2;
    }
    res.sort();
    lower.push(quantile(res, alpha));
    upper.push(quantile(res, 1 - alpha));
    rmse.push(Math.sqrt(se / val.count));
    persistenceRmse.push(Math.sqrt(sp / val.count));
    let inside = 0;
    for (let k = 0; k < val.count; k++) {
      const r = (val.y[k * H + h] - pred[k * H + h]) / scale[k];
      if (r >= lower[h] && r <= upper[h]) inside++;
    }
    coverage.push(inside / val.count);
  }
  return {
    model,
    epochs: epochsRun,
    bestEpoch,
    trainLoss: lastTrainLoss,
    valLoss: best,
    interval: { nominal: opts.nominal, lower, upper, scaledBy: 'recent_change_rms', scaleFloor },
    validation: { rmse, persistenceRmse, coverage },
    seconds: (Date.now() - t0) / 1000,
  };
}
