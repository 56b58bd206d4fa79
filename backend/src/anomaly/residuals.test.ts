import type { BatchForecaster, HistoryWindow } from '../forecast/types';
import { forecastResiduals, residualsAvailable } from './residuals';

/** A forecaster at 600 s whose forecast is `rule` of the scaled window; it records what it was given. */
function fake(rule: (w: HistoryWindow) => number, minHistory = 3, historyPoints = 5) {
  const seen: HistoryWindow[] = [];
  const f: BatchForecaster = {
    name: 'fake',
    step: 600,
    horizons: 1,
    minHistory,
    historyPoints,
    async predictBatch(windows) {
      seen.push(...windows.map((w) => ({ values: Array.from(w.values), endTime: w.endTime })));
      return windows.map((w) => ({ mean: [rule(w)], lower: [NaN], upper: [NaN] }));
    },
  };
  return { f, seen };
}

const persistence = (w: HistoryWindow) => w.values[w.values.length - 1];

describe('forecastResiduals', () => {
  it("gives each point its value minus the forecaster's one-step forecast for its bucket", async () => {
    const { f } = fake(persistence);
    // 300 s points from an aligned start: buckets of two, means 1.5, 3.5, 5.5, 7.5, 9.5.
    const v = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    const r = await forecastResiduals(f, v, 6000, 300);
    // Buckets 0–2 have fewer than minHistory (3) before them: no forecast.
    expect(Array.from(r.subarray(0, 6)).every(Number.isNaN)).toBe(true);
    // Bucket 3 is forecast from buckets 0–2 by persistence: 5.5; bucket 4 from 1–3: 7.5.
    expect(Array.from(r.subarray(6))).toEqual([7 - 5.5, 8 - 5.5, 9 - 7.5, 10 - 7.5]);
  });

  it('scales each window on its own history and scales the forecast back', async () => {
    // The forecast is the middle of the window's range: (min + max) / 2 in the series' unit.
    const { f, seen } = fake(() => 0.5);
    const v = [10, 30, 20, 50, 40, 0, 70];
    const r = await forecastResiduals(f, v, 6000, 600);
    expect(r[3]).toBeCloseTo(50 - 20, 12); // window 10, 30, 20
    expect(r[6]).toBeCloseTo(70 - 25, 12); // window 30, 20, 50, 40, 0 (historyPoints 5)
    expect(seen[0].values).toEqual([0, 1, 0.5]);
    expect(seen[3].values).toHaveLength(5);
    for (const w of seen)
      expect([Math.min(...Array.from(w.values)), Math.max(...Array.from(w.values))]).toEqual([0, 1]);
  });

  it('dates each window at the start of its last bucket, on the epoch-aligned grid', async () => {
    const { f, seen } = fake(persistence);
    // Starts mid-bucket: the first bucket (5700–6000) holds one point.
    await forecastResiduals(f, [1, 2, 3, 4, 5, 6, 7, 8, 9], 5700, 300);
    expect(seen.map((w) => w.endTime)).toEqual([6600, 7200]);
  });

  it('is past-only: changing a point changes no residual before it, nor any other in its bucket', async () => {
    // The middle of the window's range: a scaler fitted on anything later would move it.
    const { f } = fake(() => 0.5);
    const v = Array.from({ length: 40 }, (_, i) => Math.sin(i / 3) * 10 + i);
    const base = await forecastResiduals(f, v, 6000, 300);
    expect(base.filter(Number.isFinite)).toHaveLength(40 - 6);
    for (const p of [7, 20, 33]) {
      const w = v.slice();
      w[p] += 100;
      const r = await forecastResiduals(f, w, 6000, 300);
      const bucketStart = p - (p % 2);
      for (let i = 0; i < bucketStart + 2; i++) {
        if (i === p) continue;
        expect(Object.is(r[i], base[i])).toBe(true);
      }
      if (Number.isFinite(base[p])) expect(r[p]).toBeCloseTo(base[p] + 100, 9);
    }
  });

  it('forecasts every bucket however many batches that takes, and never below zero for usage', async () => {
    const { f, seen } = fake(persistence);
    const v = Array.from({ length: 1200 }, (_, i) => 5 + Math.sin(i / 7));
    const r = await forecastResiduals(f, v, 6000, 600);
    expect(seen).toHaveLength(1200 - 3);
    for (let i = 3; i < 1200; i++) expect(r[i]).toBeCloseTo(v[i] - v[i - 1], 9);
    // A forecast below a non-negative window's minimum is held at 0, as /api/forecast holds it.
    const { f: low } = fake(() => -3);
    const held = await forecastResiduals(low, [1, 2, 3, 4, 5], 6000, 600);
    expect(Array.from(held.subarray(3))).toEqual([4, 5]);
    const signed = await forecastResiduals(low, [-1, 2, 3, 4, 5], 6000, 600);
    expect(signed[3]).toBeCloseTo(4 - (-1 - 3 * 4), 9);
  });

  it('needs a step that divides the forecaster’s', async () => {
    const { f } = fake(persistence);
    expect(residualsAvailable(f, 300)).toBe(true);
    expect(residualsAvailable(f, 600)).toBe(true);
    expect(residualsAvailable(f, 900)).toBe(false);
    expect(residualsAvailable(f, 0)).toBe(false);
    await expect(forecastResiduals(f, [1, 2, 3], 0, 900)).rejects.toThrow(/divides the forecaster's 600 s/);
    expect(await forecastResiduals(f, [], 0, 300)).toHaveLength(0);
  });
});
