import { FEATURES, buildLstm } from './lstm';
import { initTf, tf } from './tf';
import { trainLstm } from './train';
import { trainInWorker } from './train-worker';
import type { WindowSet } from './windows';
import { mulberry32 } from '../series/random';

const cfg = { step: 600, lookback: 8, horizons: 3, seasonPeriod: 144, profileDays: 0 };
const opts = {
  ...cfg,
  units: 4,
  seed: 7,
  epochs: 3,
  batchSize: 32,
  learningRate: 0.01,
  patience: 10,
  maxSeconds: 120,
  nominal: 0.8,
};

/** Windows of noisy sine waves, built directly (the features' exact meaning does not matter here). */
function windows(count: number, seed: number): WindowSet {
  const rng = mulberry32(seed);
  const F = FEATURES.length;
  const x = new Float32Array(count * cfg.lookback * F);
  const y = new Float32Array(count * cfg.horizons);
  const last = new Float32Array(count);
  for (let k = 0; k < count; k++) {
    const phase = rng() * 10;
    for (let j = 0; j < cfg.lookback; j++) {
      for (let f = 0; f < F; f++) x[(k * cfg.lookback + j) * F + f] = 0.5 + 0.4 * Math.sin(phase + j / 3 + f);
    }
    last[k] = x[(k * cfg.lookback + cfg.lookback - 1) * F];
    for (let h = 0; h < cfg.horizons; h++)
      y[k * cfg.horizons + h] =
        0.4 * Math.sin(phase + (cfg.lookback + h) / 3) -
        0.4 * Math.sin(phase + (cfg.lookback - 1) / 3) +
        (rng() - 0.5) * 0.01;
  }
  return { x, y, last, count };
}

const copy = (w: WindowSet): WindowSet => ({
  x: w.x.slice(),
  y: w.y.slice(),
  last: w.last.slice(),
  count: w.count,
});

beforeAll(() => initTf());

describe('trainInWorker', () => {
  it('trains the same model as trainLstm on this thread, reporting every epoch', async () => {
    const train = windows(300, 1);
    const val = windows(80, 2);
    const here = await trainLstm(copy(train), copy(val), opts);
    const epochs: number[] = [];
    const there = await trainInWorker(train, val, { ...opts, onEpoch: (e) => epochs.push(e.epoch) });
    expect(epochs).toEqual(Array.from({ length: there.epochs }, (_, i) => i + 1));
    expect(there.epochs).toBe(here.epochs);
    expect(there.bestEpoch).toBe(here.bestEpoch);
    expect(there.interval.lower).toHaveLength(cfg.horizons);
    // Same seed, same backend: the weights agree (up to float noise in the wasm kernels).
    const a = here.model.getWeights().map((t) => Array.from(t.dataSync()));
    const b = there.model.getWeights().map((t) => Array.from(t.dataSync()));
    expect(b.length).toBe(a.length);
    a.forEach((wa, i) => wa.forEach((v, j) => expect(b[i][j]).toBeCloseTo(v, 5)));
    // The model came back whole: same architecture as buildLstm makes, usable for prediction.
    expect(there.model.layers.map((l) => l.getClassName())).toEqual(
      buildLstm({ ...opts }).layers.map((l) => l.getClassName())
    );
    const x = tf.tensor3d(windows(80, 2).x, [80, cfg.lookback, FEATURES.length]);
    const out = there.model.predict(x) as tf.Tensor;
    expect(out.shape).toEqual([80, cfg.horizons]);
    tf.dispose([x, out]);
    here.model.dispose();
    there.model.dispose();
  }, 120_000);

  it('transfers the window arrays instead of copying them', async () => {
    const train = windows(64, 3);
    const val = windows(16, 4);
    const r = await trainInWorker(train, val, { ...opts, epochs: 1 });
    expect(train.x.length).toBe(0); // detached: moved to the worker
    expect(val.y.length).toBe(0);
    r.model.dispose();
  }, 60_000);

  it('takes the loss weights along: weighted windows train as they do on this thread', async () => {
    const weighted = (w: WindowSet, seed: number): WindowSet => {
      const rng = mulberry32(seed);
      return { ...w, weight: Float32Array.from({ length: w.count }, () => 0.1 + 3 * rng()) };
    };
    const train = weighted(windows(200, 6), 8);
    const val = weighted(windows(50, 7), 9);
    const plain = await trainLstm(copy(train), copy(val), { ...opts, epochs: 1 });
    const here = await trainLstm(
      { ...copy(train), weight: train.weight!.slice() },
      { ...copy(val), weight: val.weight!.slice() },
      { ...opts, epochs: 1 }
    );
    const there = await trainInWorker(train, val, { ...opts, epochs: 1 });
    expect(train.weight!.length).toBe(0); // moved too
    expect(there.valLoss).toBeCloseTo(here.valLoss, 6);
    expect(Math.abs(here.valLoss - plain.valLoss)).toBeGreaterThan(1e-5);
    [plain, here, there].forEach((r) => r.model.dispose());
  }, 60_000);

  it("rejects with the worker's error", async () => {
    const empty: WindowSet = {
      x: new Float32Array(0),
      y: new Float32Array(0),
      last: new Float32Array(0),
      count: 0,
    };
    await expect(trainInWorker(empty, windows(10, 5), opts)).rejects.toThrow(/no training windows/);
  }, 60_000);
});
