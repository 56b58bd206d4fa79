import type { BatchForecaster } from '../forecast/types';
import { ar, holtWinters, persistence, seasonalNaive } from '../forecast/baselines';
import {
  fromBatchForecaster,
  type ForecastModel,
  type ForecastOrigin,
  type TrainingPart,
} from '../forecast/model';
import type { Point } from '../series/types';
import { backtest, prepareSeries } from './backtest';

const STEP = 600;
const T0 = 1_700_000_400; // on the 600 s grid

function series(name: string, values: number[], start = T0): { name: string; points: Point[] } {
  return { name, points: values.map((v, i) => [start + i * STEP, v] as Point) };
}

/** Forecasts persistence and records what it was shown. */
function spy(): ForecastModel & { origins: ForecastOrigin[]; parts: TrainingPart[] } {
  const model = {
    name: 'spy',
    origins: [] as ForecastOrigin[],
    parts: [] as TrainingPart[],
    fit(parts: TrainingPart[]) {
      model.parts.push(...parts);
    },
    predict(origins: ForecastOrigin[], h: number) {
      model.origins.push(...origins);
      return persistence().predict(origins, h);
    },
  };
  return model;
}

describe('backtest', () => {
  it('scores persistence on a ramp exactly', async () => {
    // v_i = i for i < 300: 240 training points (scaled by 239), origins 240..298, error h at horizon h.
    const ramp = Array.from({ length: 300 }, (_, i) => i);
    const r = await backtest([series('ramp', ramp)], [persistence()]);
    expect(r.results).toHaveLength(6);
    for (const x of r.results) {
      const h = x.horizon;
      expect(x.n).toBe(60 - h);
      expect(x.rmse).toBeCloseTo(h / 239, 12);
      expect(x.mae).toBeCloseTo(h / 239, 12);
      expect(x.rmse_pooled).toBeCloseTo(h / 239, 12);
      let actualSum = 0;
      for (let i = 240 + h; i < 300; i++) actualSum += i;
      expect(x.accuracy).toBeCloseTo(1 - (h * (60 - h)) / actualSum, 12);
      expect(x.coverage).toBeUndefined();
    }
  });

  it('takes the median over series for rmse and mae, pooled for rmse_pooled and accuracy', async () => {
    // Three ramps with slopes 1, 2, 3 but the same scaled shape, plus one whose test part jumps.
    const a = series(
      'a',
      Array.from({ length: 300 }, (_, i) => i)
    );
    const b = series(
      'b',
      Array.from({ length: 300 }, (_, i) => 2 * i)
    );
    const c = series(
      'c',
      Array.from({ length: 300 }, (_, i) => (i < 240 ? i : 10 * i))
    );
    const r = await backtest([a, b, c], [persistence()], { horizons: 1 });
    const [x] = r.results;
    // a and b: error 1/239 per step; c: error 10/239. Median over series = 1/239.
    expect(x.rmse).toBeCloseTo(1 / 239, 12);
    expect(x.rmse_pooled).toBeCloseTo(Math.sqrt((2 * (1 / 239) ** 2 + (10 / 239) ** 2) / 3), 12);
    expect(x.n).toBe(3 * 59);
    let actualSum = 0;
    for (let i = 241; i < 300; i++) actualSum += i;
    expect(x.accuracy).toBeCloseTo(1 - (59 * (1 + 2 + 10)) / (actualSum * (1 + 2 + 10)), 12);
  });

  it('never lets an origin, window or target cross a gap', async () => {
    // Segment A: 700 points; a 10-step hole; segment B: 100 points. 800 points, 640 for training: test
    // origins are A's 640..698 (target inside A); B is too short (< 1 day) to hold an origin.
    const a = Array.from({ length: 700 }, (_, i) => Math.sin(i / 7));
    const b = Array.from({ length: 100 }, () => 5);
    const model = spy();
    const r = await backtest(
      [{ name: 's', points: [...series('s', a).points, ...series('s', b, T0 + 710 * STEP).points] }],
      [model]
    );
    for (const x of r.results) expect(x.n).toBe(60 - x.horizon);
    expect(model.origins).toHaveLength(59);
    for (const o of model.origins) {
      expect(o.segment).toBe(0);
      expect(o.history.length).toBeGreaterThanOrEqual(144);
      expect(o.time).toBe(T0 + (o.history.length - 1) * STEP);
      expect(Math.max(...o.history)).toBeLessThanOrEqual(1); // no value of B (scaled far above 1)
    }
  });

  it('interpolates holes of up to 2 steps and splits longer ones', async () => {
    const pts = series(
      's',
      Array.from({ length: 400 }, (_, i) => i)
    ).points;
    const oneHole = pts.filter((_, i) => i !== 100);
    const threeHole = pts.filter((_, i) => i < 100 || i > 102);
    const p1 = prepareSeries({ name: 's', points: oneHole }, 0, STEP, 0.8);
    const p3 = prepareSeries({ name: 's', points: threeHole }, 0, STEP, 0.8);
    if (typeof p1 === 'string' || typeof p3 === 'string') throw new Error('not prepared');
    expect(p1.segments.map((g) => g.values.length)).toEqual([400]);
    expect(p3.segments.map((g) => g.values.length)).toEqual([100, 297]);
  });

  it('fits the scaler and the models on the first 80 % only', async () => {
    // The test part runs 100× above the training range; the scaler must not know.
    const values = Array.from({ length: 500 }, (_, i) => (i < 400 ? (i % 10) + 1 : 1000));
    const p = prepareSeries(series('s', values), 0, STEP, 0.8);
    if (typeof p === 'string') throw new Error('not prepared');
    expect(p.scaler.toJSON()).toEqual({ min: 1, max: 10 });
    expect(p.nTrain).toBe(400);
    const model = spy();
    await backtest([series('s', values)], [model]);
    const seg = model.parts[0].segments;
    expect(seg.reduce((n, g) => n + g.values.length, 0)).toBe(400);
    expect(Math.max(...seg.flatMap((g) => Array.from(g.values)))).toBe(1);
  });

  it('skips and counts series whose training part is constant', async () => {
    const flat = series(
      'flat',
      Array.from({ length: 300 }, (_, i) => (i < 250 ? 3 : i))
    );
    const ramp = series(
      'ramp',
      Array.from({ length: 300 }, (_, i) => i)
    );
    const r = await backtest([flat, ramp], [persistence()]);
    expect(r.skipped.constant).toEqual(['flat']);
    expect(r.series).toBe(1);
    expect(r.results[0].n).toBe(59);
  });

  it('scores every model on the same triples, in any batch size', async () => {
    const day = (i: number) => Math.sin((2 * Math.PI * i) / 144);
    const s1 = series(
      'a',
      Array.from({ length: 1200 }, (_, i) => 1 + day(i) + 0.1 * Math.sin(i))
    );
    const s2 = series(
      'b',
      Array.from({ length: 900 }, (_, i) => 3 + 2 * day(i + 30) + 0.2 * Math.cos(i / 3))
    );
    const make = () => [persistence(), seasonalNaive(STEP), holtWinters(STEP), ar()];
    const big = await backtest([s1, s2], make());
    const small = await backtest([s1, s2], make(), { batchSize: 7 });
    expect(small.results).toEqual(big.results);
    for (let h = 1; h <= 6; h++) {
      const ns = big.results.filter((x) => x.horizon === h).map((x) => x.n);
      expect(new Set(ns).size).toBe(1);
    }
  });

  it('reports interval coverage where a model gives lower and upper', async () => {
    const ramp = series(
      'ramp',
      Array.from({ length: 300 }, (_, i) => i)
    );
    // The ramp always rises: an interval [mean, mean + 1] covers, [mean − 1, mean] never does.
    const band = (name: string, below: number, above: number): ForecastModel => ({
      name,
      predict: (origins, h) =>
        (persistence().predict(origins, h) as { mean: Float64Array }[]).map(({ mean }) => ({
          mean,
          lower: mean.map((v) => v - below),
          upper: mean.map((v) => v + above),
        })),
    });
    const r = await backtest([ramp], [band('up', 0, 1), band('down', 1, 0)]);
    for (const x of r.results) expect(x.coverage).toBe(x.model === 'up' ? 1 : 0);
  });

  it('plugs a BatchForecaster in through fromBatchForecaster', async () => {
    const windows: number[] = [];
    const forecaster: BatchForecaster = {
      name: 'fake',
      step: STEP,
      horizons: 6,
      minHistory: 24,
      async predictBatch(ws) {
        windows.push(ws.length);
        return ws.map((w) => {
          const last = w.values[w.values.length - 1];
          return {
            mean: Array(6).fill(last),
            lower: Array(6).fill(last - 0.5),
            upper: Array(6).fill(last + 0.5),
          };
        });
      },
    };
    const ramp = series(
      'ramp',
      Array.from({ length: 300 }, (_, i) => i)
    );
    const r = await backtest([ramp], [fromBatchForecaster(forecaster, { step: STEP }), persistence()], {
      batchSize: 20,
    });
    expect(windows).toEqual([20, 20, 19]);
    const fake = r.results.filter((x) => x.model === 'fake');
    const pers = r.results.filter((x) => x.model === 'persistence');
    fake.forEach((x, i) => {
      expect(x.rmse).toBe(pers[i].rmse);
      expect(x.coverage).toBe(1);
    });
    expect(() => fromBatchForecaster(forecaster, { step: 300 })).toThrow(/step/);
  });

  it('keeps traces of the asked-for series in original units', async () => {
    const ramp = series(
      'ramp',
      Array.from({ length: 300 }, (_, i) => i)
    );
    const r = await backtest([ramp], [persistence()], { traceSeries: [0] });
    const [t] = r.traces;
    expect(t.times).toHaveLength(60);
    expect(t.actual[0]).toBeCloseTo(240, 9);
    const first = t.forecasts.persistence[0];
    expect(first.origin).toBe(T0 + 240 * STEP);
    expect(first.mean[5]).toBeCloseTo(240, 9);
  });
});
