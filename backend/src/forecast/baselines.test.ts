import {
  ar,
  fitAr,
  fitHoltWinters,
  holtWinters,
  leastSquares,
  persistence,
  seasonalNaive,
  seasonLength,
} from './baselines';
import type { ForecastOrigin, TrainingPart } from './model';

const STEP = 600;
const DAY = 144;

/** Deterministic standard normal noise (LCG + Box-Muller). */
function noise(seed: number): () => number {
  let s = seed >>> 0;
  const u = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) + 0.5) / 2 ** 32;
  return () => Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
}

function origin(values: Float64Array, index: number, series = 0, segment = 0): ForecastOrigin {
  return { series, segment, history: values.subarray(0, index + 1), time: 1_700_000_000 + index * STEP };
}

function part(values: Float64Array): TrainingPart {
  return { name: 's', segments: [{ start: 0, values }] };
}

describe('persistence and seasonal_naive', () => {
  const values = Float64Array.from({ length: 300 }, (_, i) => i / 300);

  it('persistence repeats the last value', () => {
    const [f] = persistence().predict([origin(values, 200)], 3) as { mean: Float64Array }[];
    expect(Array.from(f.mean)).toEqual([200 / 300, 200 / 300, 200 / 300]);
  });

  it('seasonal_naive takes the value one day before the target', () => {
    expect(seasonLength(STEP)).toBe(DAY);
    const [f] = seasonalNaive(STEP).predict([origin(values, 200)], 2) as { mean: Float64Array }[];
    expect(Array.from(f.mean)).toEqual([values[201 - DAY], values[202 - DAY]]);
    expect(() => seasonalNaive(STEP).predict([origin(values, 100)], 1)).toThrow(/144 points/);
  });
});

describe('ar', () => {
  it('leastSquares solves an exactly determined system', () => {
    // 2a + b = 5, a + 3b = 10 → a = 1, b = 3
    const beta = leastSquares(Float64Array.from([2, 1, 1, 3]), Float64Array.from([5, 10]), 2, 2);
    expect(beta[0]).toBeCloseTo(1, 10);
    expect(beta[1]).toBeCloseTo(3, 10);
  });

  it('recovers the direct maps of a known AR(2) process', () => {
    const rnd = noise(7);
    const x = new Float64Array(20000);
    x[0] = x[1] = 0.4;
    for (let t = 2; t < x.length; t++) x[t] = 0.2 + 0.5 * x[t - 1] - 0.3 * x[t - 2] + 0.02 * rnd();
    // h = 1: x[t+1] = 0.2 + 0.5 x[t] − 0.3 x[t−1]
    const w1 = fitAr([x], 1);
    const expected1 = [0, 0, 0, 0, -0.3, 0.5, 0.2];
    w1.forEach((w, j) => expect(w).toBeCloseTo(expected1[j], 1));
    expect(Math.abs(w1[5] - 0.5)).toBeLessThan(0.02);
    expect(Math.abs(w1[4] + 0.3)).toBeLessThan(0.02);
    // h = 2: x[t+2] = 0.3 − 0.05 x[t] − 0.15 x[t−1]
    const w2 = fitAr([x], 2);
    const expected2 = [0, 0, 0, 0, -0.15, -0.05, 0.3];
    w2.forEach((w, j) => expect(Math.abs(w - expected2[j])).toBeLessThan(0.03));
  });

  it('fits per series and horizon on windows inside a segment only', () => {
    // Two segments that each follow x[t+1] = x[t] + 0.01 but jump between them: a window across the
    // jump would break the exact fit.
    const a = Float64Array.from({ length: 50 }, (_, i) => 0.1 + 0.01 * i);
    const b = Float64Array.from({ length: 50 }, (_, i) => 0.4 + 0.01 * i);
    const model = ar();
    model.fit(
      [
        {
          name: 's',
          segments: [
            { start: 0, values: a },
            { start: 1e6, values: b },
          ],
        },
      ],
      { step: STEP, horizons: 3 }
    );
    const probe = Float64Array.from({ length: 10 }, (_, i) => 0.3 + 0.01 * i);
    const [f] = model.predict([origin(probe, 9)], 3) as { mean: Float64Array }[];
    for (let h = 1; h <= 3; h++) expect(f.mean[h - 1]).toBeCloseTo(0.39 + 0.01 * h, 6);
  });

  it('falls back to persistence when no training window exists', () => {
    expect(Array.from(fitAr([Float64Array.from([1, 2, 3])], 1))).toEqual([0, 0, 0, 0, 0, 1, 0]);
  });
});

describe('holt_winters', () => {
  // Daily sine on a rising level: the first day's deviations mix trend into the season, so a fit has to
  // learn both to forecast well.
  const days = 12;
  const clean = Float64Array.from(
    { length: days * DAY },
    (_, t) => 0.2 + 0.0005 * t + 0.2 * Math.sin((2 * Math.PI * t) / DAY)
  );

  it('forecasts a clean seasonal series with trend almost exactly after fitting', () => {
    const model = holtWinters(STEP);
    const train = clean.subarray(0, 10 * DAY);
    model.fit([part(train)], { step: STEP, horizons: 6 });
    expect(model.params[0].beta).toBeGreaterThan(0);
    const origins = [10 * DAY, 10 * DAY + 37, 11 * DAY + 100].map((i) => origin(clean, i));
    const out = model.predict(origins, 6) as { mean: Float64Array }[];
    let worst = 0;
    let worstNaive = 0;
    const naive = seasonalNaive(STEP).predict(origins, 6) as { mean: Float64Array }[];
    origins.forEach((o, k) => {
      const i = o.history.length - 1;
      for (let h = 1; h <= 6; h++) {
        worst = Math.max(worst, Math.abs(out[k].mean[h - 1] - clean[i + h]));
        worstNaive = Math.max(worstNaive, Math.abs(naive[k].mean[h - 1] - clean[i + h]));
      }
    });
    expect(worstNaive).toBeCloseTo(0.0005 * DAY, 6); // one day of trend
    expect(worst).toBeLessThan(0.005);
  });

  it('answers the same whether origins come together or one by one', () => {
    const rnd = noise(3);
    const noisy = clean.map((v) => v + 0.03 * rnd());
    const model = holtWinters(STEP);
    model.fit([part(noisy.subarray(0, 8 * DAY))], { step: STEP, horizons: 3 });
    const idx = [9 * DAY + 5, 8 * DAY, 10 * DAY + 1, 8 * DAY + 70];
    const together = model.predict(
      idx.map((i) => origin(noisy, i)),
      3
    ) as { mean: Float64Array }[];
    idx.forEach((i, k) => {
      const [alone] = model.predict([origin(noisy, i)], 3) as { mean: Float64Array }[];
      expect(Array.from(together[k].mean)).toEqual(Array.from(alone.mean));
    });
  });

  it('uses the defaults when no training segment spans more than a season', () => {
    expect(fitHoltWinters([clean.subarray(0, DAY)], DAY)).toEqual({ alpha: 0.5, beta: 0, gamma: 0.1 });
  });
});
