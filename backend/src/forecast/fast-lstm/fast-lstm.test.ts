import { FastLstm, UnsupportedModelError, WasmNetwork, extractNetwork, forwardJs } from '.';
import { FEATURES, LstmForecaster, buildLstm, type ForecasterMetadata } from '../lstm';
import { initTf, tf } from '../tf';
import { mulberry32 } from '../../series/random';

beforeAll(() => initTf());

function randomArray(n: number, rng: () => number, scale: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = (rng() * 2 - 1) * scale;
  return a;
}

/** Replaces every weight with uniform noise of ±scale: large enough to drive the gates into saturation. */
function randomizeWeights(model: tf.LayersModel, seed: number, scale = 0.6): void {
  const rng = mulberry32(seed);
  model.setWeights(
    model.weights.map((v) => {
      const shape = v.shape as number[];
      return tf.tensor(
        randomArray(
          shape.reduce((a, b) => a * b, 1),
          rng,
          scale
        ),
        shape
      );
    })
  );
}

function reference(
  model: tf.LayersModel,
  input: Float32Array,
  shape: [number, number, number]
): Float32Array {
  return tf.tidy(() => (model.predict(tf.tensor3d(input, shape)) as tf.Tensor).dataSync() as Float32Array);
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}

const baseCfg = { step: 600, horizons: 6, seasonPeriod: 144, profileDays: 2 };

describe('fast forward pass vs TensorFlow.js', () => {
  // The layer config buildLstm makes, whatever it is (tfjs' LSTM default recurrent activation is
  // hardSigmoid, Keras' is sigmoid: both are implemented).
  it.each([
    { lookback: 24, units: 32, seed: 1 },
    { lookback: 8, units: 4, seed: 2 },
    { lookback: 30, units: 12, seed: 3 },
    { lookback: 5, units: 64, seed: 4 },
  ])(
    'buildLstm lookback $lookback, units $units: within 1e-5 on random inputs and weights',
    ({ lookback, units, seed }) => {
      const model = buildLstm({ ...baseCfg, lookback, units, seed });
      try {
        randomizeWeights(model, seed * 7);
        const spec = extractNetwork(model);
        expect(spec.layers.map((l) => l.kind)).toEqual(['lstm', 'dense']);
        const batch = 37;
        const input = randomArray(batch * lookback * FEATURES.length, mulberry32(seed), 2);
        const want = reference(model, input, [batch, lookback, FEATURES.length]);
        expect(maxAbsDiff(new WasmNetwork(spec).predict(input, batch), want)).toBeLessThan(1e-5);
        expect(maxAbsDiff(forwardJs(spec, input, batch), want)).toBeLessThan(1e-5);
      } finally {
        model.dispose();
      }
    }
  );

  it('handles other activations, stacked LSTMs, sequence Dense and dropout the same way', () => {
    const model = tf.sequential();
    model.add(
      tf.layers.lstm({ units: 8, inputShape: [10, 3], returnSequences: true, recurrentActivation: 'sigmoid' })
    );
    model.add(tf.layers.dropout({ rate: 0.3 }));
    model.add(
      tf.layers.lstm({
        units: 16,
        returnSequences: true,
        activation: 'relu',
        recurrentActivation: 'hardSigmoid',
      })
    );
    model.add(tf.layers.dense({ units: 5, activation: 'tanh' }));
    model.add(tf.layers.lstm({ units: 4, activation: 'tanh', recurrentActivation: 'sigmoid' }));
    model.add(tf.layers.dense({ units: 3, activation: 'sigmoid' }));
    try {
      randomizeWeights(model, 99, 0.8);
      const batch = 9;
      const input = randomArray(batch * 10 * 3, mulberry32(5), 3);
      const want = reference(model, input, [batch, 10, 3]);
      const spec = extractNetwork(model);
      expect(maxAbsDiff(new WasmNetwork(spec).predict(input, batch), want)).toBeLessThan(1e-5);
      expect(maxAbsDiff(forwardJs(spec, input, batch), want)).toBeLessThan(1e-5);
    } finally {
      model.dispose();
    }
  });

  it('matches on extreme inputs where tanh and sigmoid saturate', () => {
    const model = buildLstm({ ...baseCfg, lookback: 12, units: 8, seed: 5 });
    try {
      randomizeWeights(model, 13, 3);
      const input = randomArray(20 * 12 * FEATURES.length, mulberry32(8), 50);
      const want = reference(model, input, [20, 12, FEATURES.length]);
      const got = new WasmNetwork(extractNetwork(model)).predict(input, 20);
      expect(got.every(Number.isFinite)).toBe(true);
      expect(maxAbsDiff(got, want)).toBeLessThan(1e-5);
    } finally {
      model.dispose();
    }
  });

  it('refuses what it does not implement, so the caller keeps tfjs', () => {
    const gru = tf.sequential();
    gru.add(tf.layers.gru({ units: 4, inputShape: [6, 2] }));
    const odd = buildLstm({ ...baseCfg, lookback: 6, units: 6, seed: 1 });
    try {
      expect(FastLstm.tryFrom(gru)).toBeInstanceOf(UnsupportedModelError);
      expect(FastLstm.tryFrom(odd)).toBeInstanceOf(UnsupportedModelError);
    } finally {
      gru.dispose();
      odd.dispose();
    }
  });

  it('answers an empty batch and rejects a wrongly sized input', () => {
    const model = buildLstm({ ...baseCfg, lookback: 4, units: 4, seed: 1 });
    try {
      const net = new WasmNetwork(extractNetwork(model));
      expect(net.predict(new Float32Array(0), 0)).toHaveLength(0);
      expect(() => net.predict(new Float32Array(7), 1)).toThrow(RangeError);
    } finally {
      model.dispose();
    }
  });
});

describe('LstmForecaster on the fast path', () => {
  const lookback = 16;
  const metadata = {
    id: 'fast-test',
    version: '1',
    ...baseCfg,
    lookback,
    historyPoints: lookback,
    interval: { nominal: 0.8, lower: Array(6).fill(-0.1), upper: Array(6).fill(0.1) },
  } as unknown as ForecasterMetadata;

  const windows = Array.from({ length: 50 }, (_, b) => ({
    values: Array.from({ length: 40 }, (_, i) => 0.5 + 0.45 * Math.sin((i + 3 * b) / 4) * Math.cos(b)),
    endTime: 1_700_000_000 + b * 600,
  }));

  /** The same features predictDeltas builds, through tfjs. */
  async function tfjsDeltas(f: LstmForecaster): Promise<Float32Array> {
    const slow = Object.create(f, {
      fast: { value: new UnsupportedModelError('reference run') },
    }) as LstmForecaster;
    const deltas = await slow.predictDeltas(windows);
    expect(deltas).toHaveLength(windows.length * f.horizons);
    return deltas;
  }

  it('uses the fast path and agrees with tfjs to 1e-5', async () => {
    const model = buildLstm({ ...baseCfg, lookback, units: 32, seed: 21 });
    randomizeWeights(model, 4);
    const f = new LstmForecaster(model, metadata);
    expect(f.fast).toBeInstanceOf(FastLstm);
    const before = tf.memory().numTensors;
    const fast = await f.predictDeltas(windows);
    expect(tf.memory().numTensors).toBe(before); // no tensors on the fast path
    expect(maxAbsDiff(fast, await tfjsDeltas(f))).toBeLessThan(1e-5);
    model.dispose();
  });

  it('a new model gets its own weights, and changed weights are picked up (no stale cache)', async () => {
    const a = buildLstm({ ...baseCfg, lookback, units: 8, seed: 1 });
    const b = buildLstm({ ...baseCfg, lookback, units: 8, seed: 1 });
    randomizeWeights(a, 100);
    randomizeWeights(b, 200);
    const fa = new LstmForecaster(a, metadata);
    const fb = new LstmForecaster(b, metadata);
    const da = await fa.predictDeltas(windows);
    const db = await fb.predictDeltas(windows);
    expect(maxAbsDiff(da, db)).toBeGreaterThan(1e-3);
    expect(maxAbsDiff(db, await tfjsDeltas(fb))).toBeLessThan(1e-5);

    // Same forecaster, weights replaced in place (as training would): the next call follows them.
    randomizeWeights(a, 300);
    const after = await fa.predictDeltas(windows);
    expect(maxAbsDiff(after, da)).toBeGreaterThan(1e-3);
    expect(maxAbsDiff(after, await tfjsDeltas(fa))).toBeLessThan(1e-5);
    a.dispose();
    b.dispose();
  });
});
