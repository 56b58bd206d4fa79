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
  const weight = w.weight ? new Float32Array(w.count) : undefined;
  order.forEach((src, dst) => {
    x.set(w.x.subarray(src * stride, (src + 1) * stride), dst * stride);
    y.set(w.y.subarray(src * cfg.horizons, (src + 1) * cfg.horizons), dst * cfg.horizons);
    last[dst] = w.last[src];
    if (weight) weight[dst] = w.weight![src];
  });
  return { x, y, last, ...(weight ? { weight } : {}), count: w.count };
}

/**
 * What fit() trains when the windows carry loss weights. tfjs has no sampleWeight, so the weight goes in as
 * a second input and comes out as an extra output column beside the forecast; the loss reads it there. The
 * layers are the model's own: training this trains it.
 */
function withWeightColumn(model: tf.LayersModel, cfg: FeatureConfig): tf.LayersModel {
  const x = tf.input({ shape: [cfg.lookback, FEATURES.length] });
  const w = tf.input({ shape: [1] });
  const forecast = model.apply(x) as tf.SymbolicTensor;
  const out = tf.layers.concatenate().apply([forecast, w]) as tf.SymbolicTensor;
  return tf.model({ inputs: [x, w], outputs: out });
}

/** Inputs and targets for fit/evaluate: plain, or (weighted) with the weight beside x and after y. */
function tensors(
  w: WindowSet,
  cfg: FeatureConfig,
  weightScale: number | undefined
): { x: tf.Tensor | tf.Tensor[]; y: tf.Tensor; dispose: () => void } {
  const F = FEATURES.length;
  const H = cfg.horizons;
  const x = tf.tensor3d(w.x, [w.count, cfg.lookback, F]);
  if (weightScale === undefined) {
    const y = tf.tensor2d(w.y, [w.count, H]);
    return { x, y, dispose: () => tf.dispose([x, y]) };
  }
  const weight = w.weight
    ? Float32Array.from(w.weight, (v) => v * weightScale)
    : new Float32Array(w.count).fill(1);
  const padded = new Float32Array(w.count * (H + 1));
  for (let k = 0; k < w.count; k++) {
    padded.set(w.y.subarray(k * H, (k + 1) * H), k * (H + 1));
    padded[k * (H + 1) + H] = weight[k];
  }
  const wt = tf.tensor2d(weight, [w.count, 1]);
  const y = tf.tensor2d(padded, [w.count, H + 1]);
  return { x: [x, wt], y, dispose: () => tf.dispose([x, wt, y]) };
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
  const H = opts.horizons;
  const optimizer = tf.train.adam(opts.learningRate);
  // Weighted: the mean weight over the training windows is made 1, so the loss keeps its usual size.
  const weightScale = train.weight ? train.count / train.weight.reduce((a, v) => a + v, 0) : undefined;
  const trained = weightScale === undefined ? model : withWeightColumn(model, opts);
  // Mean over windows and horizons of w·loss (w = 1 unweighted). Written out: tfjs' own weighted reductions
  // count non-zero weights with an op that has no gradient.
  const elementLoss = (y: tf.Tensor, p: tf.Tensor, w?: tf.Tensor) => {
    const l = delta
      ? tf.losses.huberLoss(y, p, undefined, delta, tf.Reduction.NONE)
      : tf.square(tf.sub(y, p));
    return tf.mean(w ? tf.mul(l, w) : l);
  };
  trained.compile({
    optimizer,
    loss:
      weightScale === undefined
        ? (yTrue: tf.Tensor, yPred: tf.Tensor) => elementLoss(yTrue, yPred)
        : (yTrue: tf.Tensor, yPred: tf.Tensor) =>
            elementLoss(
              yTrue.slice([0, 0], [-1, H]),
              yPred.slice([0, 0], [-1, H]),
              yPred.slice([0, H], [-1, 1])
            ),
  });

  const valData = tensors(val, opts, weightScale);
  let best = Infinity;
  let bestEpoch = -1;
  let bestWeights: tf.Tensor[] | undefined;
  let epochsRun = 0;
  let lastTrainLoss = NaN;
  let lastEpochEnd = 0;
  try {
    for (let epoch = 0; epoch < opts.epochs; epoch++) {
      // Our own seeded shuffle each epoch: tfjs' internal shuffle uses Math.random.
      const shuffled = tensors(shuffleWindows(train, opts, rng), opts, weightScale);
      const h = await trained.fit(shuffled.x, shuffled.y, {
        batchSize: opts.batchSize,
        epochs: 1,
        shuffle: false,
        verbose: 0,
      });
      shuffled.dispose();
      lastTrainLoss = h.history.loss[0] as number;
      const valLoss = tf.tidy(
        () => (trained.evaluate(valData.x, valData.y, { batchSize: 4096 }) as tf.Scalar).dataSync()[0]
      );
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
    valData.dispose();
  }
  if (bestWeights) {
    model.setWeights(bestWeights);
    bestWeights.forEach((t) => t.dispose());
  }

  // Conformal band and validation figures from the restored best model.
  const pred = await predictAll(model, val, opts);
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
