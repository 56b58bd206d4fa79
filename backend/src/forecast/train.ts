/**
 * Fits the global LSTM on training windows with early stopping on the validation windows, then
 * calibrates its prediction interval from validation residuals (split conformal: per-horizon empirical
 * quantiles of actual − forecast), so the band's coverage is measured, not assumed.
 */
import { FEATURES, buildLstm, type FeatureConfig } from './lstm';
import { initTf, tf } from './tf';
import type { WindowSet } from './windows';
import { seededRandom } from './windows';

export interface TrainOptions extends FeatureConfig {
  units: number;
  seed: number;
  epochs: number;
  batchSize: number;
  learningRate: number;
  patience: number;
  /** Stop after this many seconds even if still improving. */
  maxSeconds: number;
  /** Nominal coverage of the prediction interval. */
  nominal: number;
  onEpoch?: (e: { epoch: number; epochs: number; loss: number; valLoss: number; seconds: number }) => void;
}

export interface TrainResult {
  model: tf.LayersModel;
  epochs: number;
  bestEpoch: number;
  trainLoss: number;
  valLoss: number;
  interval: { nominal: number; lower: number[]; upper: number[] };
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

async function predictAll(model: tf.LayersModel, w: WindowSet, cfg: FeatureConfig, batch = 4096): Promise<Float32Array> {
  const F = FEATURES.length;
  const out = new Float32Array(w.count * cfg.horizons);
  for (let s = 0; s < w.count; s += batch) {
    const n = Math.min(batch, w.count - s);
    const x = tf.tensor3d(w.x.subarray(s * cfg.lookback * F, (s + n) * cfg.lookback * F), [n, cfg.lookback, F]);
    const y = model.predict(x) as tf.Tensor;
    out.set((await y.data()) as Float32Array, s * cfg.horizons);
    x.dispose();
    y.dispose();
  }
  return out;
}

export async function trainLstm(train: WindowSet, val: WindowSet, opts: TrainOptions): Promise<TrainResult> {
  await initTf();
  if (train.count === 0) throw new Error('no training windows: every series is shorter than lookback + horizons');
  if (val.count === 0) throw new Error('no validation windows: the series are too short to hold a validation part');
  const t0 = Date.now();
  const F = FEATURES.length;
  const rng = seededRandom(opts.seed);
  const model = buildLstm({ ...opts });
  model.compile({ optimizer: tf.train.adam(opts.learningRate), loss: 'meanSquaredError' });

  const xv = tf.tensor3d(val.x, [val.count, opts.lookback, F]);
  const yv = tf.tensor2d(val.y, [val.count, opts.horizons]);
  let best = Infinity;
  let bestEpoch = -1;
  let bestWeights: tf.Tensor[] | undefined;
  let epochsRun = 0;
  let lastTrainLoss = NaN;
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
      opts.onEpoch?.({ epoch: epochsRun, epochs: opts.epochs, loss: lastTrainLoss, valLoss, seconds: (Date.now() - t0) / 1000 });
      if (valLoss < best - 1e-7) {
        best = valLoss;
        bestEpoch = epochsRun;
        bestWeights?.forEach((t) => t.dispose());
        bestWeights = model.getWeights().map((t) => t.clone());
      } else if (epochsRun - bestEpoch >= opts.patience) break;
      if ((Date.now() - t0) / 1000 > opts.maxSeconds) break;
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
      res[k] = r;
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
      const r = val.y[k * H + h] - pred[k * H + h];
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
    interval: { nominal: opts.nominal, lower, upper },
    validation: { rmse, persistenceRmse, coverage },
    seconds: (Date.now() - t0) / 1000,
  };
}
