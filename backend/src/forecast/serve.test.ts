import * as path from 'node:path';
import { mulberry32 } from '../series/random';
import type { ColumnSeries } from '../series/types';
import { loadForecaster } from './lstm';
import { forecastSeries, onGrid } from './serve';
import { initTf } from './tf';
import type { BatchForecaster, HistoryWindow } from './types';

const STEP = 600;
const ORIGIN = 1_700_000_400; // a multiple of 600 s

/** Forecasts from the window it is given (so two windows that differ give different answers). */
function recorder() {
  const windows: HistoryWindow[] = [];
  const f: BatchForecaster = {
    name: 'rec',
    step: STEP,
    horizons: 2,
    minHistory: 4,
    async predictBatch(ws) {
      windows.push(...ws.map((w) => ({ values: Array.from(w.values), endTime: w.endTime })));
      return ws.map((w) => {
        const v = Array.from(w.values);
        const m = v.slice(-3).reduce((a, b) => a + b, 0) / 3;
        return { mean: [m, v[0]], lower: [m - 0.1, v[0] - 0.2], upper: [m + 0.1, v[0] + 0.2] };
      });
    },
  };
  return { f, windows };
}

function series(n: number, seed: number, from = ORIGIN - 100 * STEP): ColumnSeries {
  const r = mulberry32(seed);
  const times = new Float64Array(n);
  const values = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    times[i] = from + i * STEP;
    values[i] = 3 + Math.sin(i / 9) + r() - 0.5;
  }
  return { labels: { pod: String(seed) }, times, values };
}

describe('forecastSeries on a series already on the grid', () => {
  it('answers exactly what resampling it first would', async () => {
    const direct = [series(300, 1), series(50, 2), series(1200, 3)];
    // The same series with one trailing NaN sample: not on the grid, so resampled (which drops the NaN).
    const viaResample = direct.map((s) => ({
      labels: s.labels,
      times: Float64Array.from([...s.times, s.times[s.times.length - 1] + STEP]),
      values: Float64Array.from([...s.values, NaN]),
    }));
    expect(direct.every((s) => onGrid(s.times, s.values, STEP, ORIGIN, 4))).toBe(true);
    expect(viaResample.some((s) => onGrid(s.times, s.values, STEP, ORIGIN, 4))).toBe(false);
    const a = recorder();
    const b = recorder();
    const fa = await forecastSeries(a.f, direct, { horizon: 1200, origin: ORIGIN });
    const fb = await forecastSeries(b.f, viaResample, { horizon: 1200, origin: ORIGIN });
    expect(a.windows).toEqual(b.windows);
    expect(fa).toEqual(fb);
    expect(fa[0].forecast[0][0]).toBe(direct[0].times[299] + STEP);
  });

  it('leaves anything else to resampling', () => {
    const s = series(100, 4);
    expect(onGrid(s.times, s.values, STEP, ORIGIN + 60, 4)).toBe(false); // another phase
    expect(onGrid(s.times, s.values, STEP, ORIGIN, 101)).toBe(false); // too short for the model
    const hole = { ...s, times: Float64Array.from(s.times, (t, i) => (i >= 50 ? t + STEP : t)) };
    expect(onGrid(hole.times, hole.values, STEP, ORIGIN, 4)).toBe(false);
    const inf = Float64Array.from(s.values);
    inf[7] = Infinity;
    expect(onGrid(s.times, inf, STEP, ORIGIN, 4)).toBe(false);
    expect(onGrid(new Float64Array(0), new Float64Array(0), STEP, ORIGIN, 0)).toBe(false);
    expect(onGrid(s.times, s.values.subarray(0, 99), STEP, ORIGIN, 4)).toBe(false); // lengths disagree
  });
});

describe('forecastSeries with the shipped model', () => {
  beforeAll(() => initTf());

  it('hands the model only the history its features read, scaled on all of it, with the same forecast', async () => {
    const model = await loadForecaster(path.join(__dirname, '..', '..', '..', 'models', 'forecaster'));
    const n = model.historyPoints + 137; // what /api/forecast reads: the model's history and the range shown
    const s = series(n, 5, ORIGIN);
    s.values[3] = 40; // the largest value lies before the history the features read: it still scales it
    const min = Math.min(...s.values);
    const [answer] = await forecastSeries(model, [s], { horizon: 3600, origin: ORIGIN });
    // The whole series, scaled the same way, through the model directly.
    const scaled = Float64Array.from(s.values, (v) => (v - min) / (40 - min));
    const [whole] = await model.predictBatch([{ values: scaled, endTime: s.times[n - 1] }]);
    expect(answer.forecast.map(([, v]) => v)).toEqual(
      whole.mean.map((m) => Math.max(0, min + m * (40 - min)))
    );
    model.model.dispose();
  });
});
