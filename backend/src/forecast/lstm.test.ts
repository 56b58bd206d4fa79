import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileSystemHandler, ModelFileError } from './io';
import {
  FEATURES,
  FORECASTER_FORMAT,
  buildLstm,
  historyPoints,
  loadForecaster,
  type ForecasterMetadata,
} from './lstm';
import { initTf, tf } from './tf';
import { trainLstm } from './train';
import { mulberry32 } from '../series/random';
import { buildWindows } from './windows';

const cfg = { step: 600, lookback: 8, horizons: 6, seasonPeriod: 144, profileDays: 2 };

function metadata(over: Partial<ForecasterMetadata> = {}): ForecasterMetadata {
  return {
    id: 'test-lstm',
    version: '1',
    format: FORECASTER_FORMAT,
    ...cfg,
    historyPoints: historyPoints(cfg),
    features: FEATURES,
    target: 'delta-from-last',
    scaler: { kind: 'minmax', fit: 'history' },
    interval: { nominal: 0.8, lower: Array(6).fill(-0.1), upper: Array(6).fill(0.1) },
    ...over,
  };
}

async function writeModel(dir: string, md = metadata()): Promise<void> {
  const model = buildLstm({ ...cfg, units: 4, seed: 3 });
  await model.save(fileSystemHandler(dir));
  model.dispose();
  fs.writeFileSync(path.join(dir, 'metadata.json'), JSON.stringify(md));
}

const windows = (n: number) =>
  Array.from({ length: n }, (_, b) => ({
    values: Array.from({ length: 30 }, (_, i) => 0.5 + 0.4 * Math.sin((i + b) / 5)),
    endTime: 1_700_000_000 + b * 600,
  }));

let dir: string;
beforeAll(() => initTf());
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'prescaler-lstm-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('loadForecaster', () => {
  it('save → load reproduces predictions bit for bit', async () => {
    const model = buildLstm({ ...cfg, units: 4, seed: 11 });
    await model.save(fileSystemHandler(dir));
    fs.writeFileSync(path.join(dir, 'metadata.json'), JSON.stringify(metadata()));
    const loaded = await loadForecaster(dir);
    const x = tf.randomUniform([5, cfg.lookback, FEATURES.length], 0, 1, 'float32', 5);
    const a = (model.predict(x) as tf.Tensor).dataSync();
    const b = (loaded.model.predict(x) as tf.Tensor).dataSync();
    expect(Array.from(b)).toEqual(Array.from(a));
    x.dispose();
    model.dispose();
    loaded.model.dispose();
  });

  it('predicts a batch with mean inside the band', async () => {
    await writeModel(dir);
    const f = await loadForecaster(dir);
    const out = await f.predictBatch(windows(3));
    expect(out).toHaveLength(3);
    for (const p of out) {
      expect(p.mean).toHaveLength(6);
      p.mean.forEach((m, h) => {
        expect(p.lower[h]).toBeCloseTo(m - 0.1, 5);
        expect(p.upper[h]).toBeCloseTo(m + 0.1, 5);
      });
    }
    f.model.dispose();
  });

  it('scales the band by the recent change RMS when the metadata says so', async () => {
    const md = metadata();
    await writeModel(dir, {
      ...md,
      interval: { ...md.interval, scaledBy: 'recent_change_rms', scaleFloor: 0.01 },
    });
    const f = await loadForecaster(dir);
    // Steps of 0.003 per point: every 6-step change is 0.018; a flat window falls back to the floor.
    const ramp = { values: Array.from({ length: 300 }, (_, i) => i * 0.003), endTime: 1_700_000_000 };
    const flat = { values: Array(300).fill(0.5), endTime: 1_700_000_000 };
    const [r, c] = await f.predictBatch([ramp, flat]);
    r.mean.forEach((m, h) => {
      expect(r.upper[h] - m).toBeCloseTo(0.018 * 0.1, 5);
      expect(m - r.lower[h]).toBeCloseTo(0.018 * 0.1, 5);
      expect(c.upper[h] - c.mean[h]).toBeCloseTo(0.01 * 0.1, 5);
    });
    f.model.dispose();
  });

  it('leaks no tensors over many requests', async () => {
    await writeModel(dir);
    const f = await loadForecaster(dir);
    await f.predictBatch(windows(4));
    const before = tf.memory().numTensors;
    for (let i = 0; i < 50; i++) await f.predictBatch(windows(1 + (i % 7)));
    expect(tf.memory().numTensors).toBe(before);
    f.model.dispose();
  });

  it('names the file when model.json is corrupt', async () => {
    await writeModel(dir);
    fs.writeFileSync(path.join(dir, 'model.json'), '{"modelTopology": ');
    await expect(loadForecaster(dir)).rejects.toThrow(/model\.json is not valid JSON/);
  });

  it('detects truncated weights', async () => {
    await writeModel(dir);
    const w = path.join(dir, 'weights.bin');
    fs.writeFileSync(w, fs.readFileSync(w).subarray(0, 100));
    await expect(loadForecaster(dir)).rejects.toThrow(ModelFileError);
    await expect(loadForecaster(dir)).rejects.toThrow(/truncated or mismatched/);
  });

  it('refuses metadata that disagrees with the model', async () => {
    await writeModel(dir, metadata({ lookback: 12, historyPoints: historyPoints({ ...cfg, lookback: 12 }) }));
    await expect(loadForecaster(dir)).rejects.toThrow(/metadata says \[12,13\]/);
  });

  it('refuses metadata of the old format or with a wrong history length', async () => {
    await writeModel(dir, { ...metadata(), format: 'prescaler-lstm/1' } as unknown as ForecasterMetadata);
    await expect(loadForecaster(dir)).rejects.toThrow(/format/);
    await writeModel(dir, metadata({ historyPoints: 24 }));
    await expect(loadForecaster(dir)).rejects.toThrow(/historyPoints 24 should be/);
  });

  it('refuses missing or invalid metadata', async () => {
    await writeModel(dir);
    fs.rmSync(path.join(dir, 'metadata.json'));
    await expect(loadForecaster(dir)).rejects.toThrow(/metadata\.json/);
    fs.writeFileSync(path.join(dir, 'metadata.json'), JSON.stringify({ ...metadata(), step: -1 }));
    await expect(loadForecaster(dir)).rejects.toThrow(/step/);
  });
});

describe('trainLstm', () => {
  const series = (phase: number) => ({
    start: 0,
    step: 600,
    values: Array.from({ length: 120 }, (_, i) => 0.5 + 0.4 * Math.sin((i + phase) / 6)),
  });
  const opts = {
    ...cfg,
    units: 4,
    seed: 5,
    epochs: 2,
    batchSize: 32,
    learningRate: 0.01,
    patience: 5,
    maxSeconds: 60,
    nominal: 0.8,
  };

  it('gives the same losses for the same seed', async () => {
    const data = () => {
      const rng = mulberry32(1);
      return [
        buildWindows([[series(0)], [series(3)]], cfg, { maxPerSeries: 200, rng }),
        buildWindows([[series(7)]], cfg, { maxPerSeries: 200, rng }),
      ] as const;
    };
    const [t1, v1] = data();
    const a = await trainLstm(t1, v1, opts);
    const [t2, v2] = data();
    const b = await trainLstm(t2, v2, opts);
    expect(a.trainLoss).toBe(b.trainLoss);
    expect(a.valLoss).toBe(b.valLoss);
    expect(a.interval.lower.length).toBe(6);
    a.model.dispose();
    b.model.dispose();
  });

  it('weighs windows by their weight: the fitted constant moves to the weighted mean of the targets', async () => {
    // Two groups with the same inputs and opposite targets (+0.1 and −0.1 at every horizon). Squared error
    // is least at the mean of the targets: 0 unweighted, (9·0.1 − 1·0.1) / 10 = 0.08 at weights 9 : 1.
    const count = 256;
    const F = FEATURES.length;
    const rng = mulberry32(3);
    const x = Float32Array.from({ length: count * cfg.lookback * F }, () => rng() * 0.1);
    for (let k = count / 2; k < count; k++) {
      x.copyWithin(
        k * cfg.lookback * F,
        (k - count / 2) * cfg.lookback * F,
        (k - count / 2 + 1) * cfg.lookback * F
      );
    }
    const y = Float32Array.from({ length: count * 6 }, (_, i) => (i < (count / 2) * 6 ? 0.1 : -0.1));
    const last = new Float32Array(count);
    const fitted = async (weight?: Float32Array) => {
      const w = { x: x.slice(), y: y.slice(), last, count, ...(weight ? { weight } : {}) };
      const r = await trainLstm(w, { ...w }, { ...opts, epochs: 60, batchSize: 64, learningRate: 0.02 });
      const out = r.model.predict(tf.tensor3d(x, [count, cfg.lookback, F])) as tf.Tensor;
      const mean = (await out.mean().data())[0];
      out.dispose();
      r.model.dispose();
      return mean;
    };
    expect(Math.abs(await fitted())).toBeLessThan(0.015);
    const weights = Float32Array.from({ length: count }, (_, k) => (k < count / 2 ? 9 : 1));
    expect(await fitted(weights)).toBeCloseTo(0.08, 1);
  });

  it('refuses empty window sets', async () => {
    const empty = { x: new Float32Array(0), y: new Float32Array(0), last: new Float32Array(0), count: 0 };
    await expect(trainLstm(empty, empty, opts)).rejects.toThrow(/no training windows/);
  });
});
