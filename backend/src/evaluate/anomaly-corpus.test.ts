import { fitDetector } from '../anomaly/detector';
import type { FeatureConfig } from '../anomaly/features';
import type { AnomalyMetadata } from '../anomaly/index';
import { scoreSegments } from '../anomaly/index';
import { mulberry32 } from '../series/random';
import { alertRate, calibrate, rowScores, type CorpusSeries } from './anomaly-corpus';

const STEP = 300;
const cfg: FeatureConfig = { window: 24, shortWindow: 3, names: ['value', 'diff', 'zscore', 'spread_ratio'] };

function daily(n: number, seed: number): number[] {
  const r = mulberry32(seed);
  return Array.from({ length: n }, (_, i) => 10 + 3 * Math.sin((2 * Math.PI * i) / 288) + 0.3 * (r() - 0.5));
}

const { detector } = fitDetector(
  [1, 2].map((k) => ({ name: `s${k}`, step: STEP, values: daily(900, k) })),
  { features: cfg, seed: 3, nTrees: 30, onsetSeconds: 0, maxGapSeconds: 3600 }
);
const model = { id: 'prescaler-iforest', version: 't', detector, metadata: {} as AnomalyMetadata };

/** A labelled series with a jump at `at` and a window around it. */
function labelled(name: string, category: string, seed: number, at: number): CorpusSeries {
  const v = daily(1200, seed);
  for (let i = at; i < at + 6; i++) v[i] += 12;
  const t0 = 1_600_000_200;
  const timestamps = v.map((_, i) => t0 + i * STEP);
  return { name, category, timestamps, values: v, windows: [[timestamps[at - 30], timestamps[at + 30]]] };
}

describe('rowScores', () => {
  it('gives each row the served score of its bucket, 0 before the detector has the past it needs', () => {
    const s = labelled('a/x.csv', 'a', 5, 1000);
    const rows = rowScores(model, s.timestamps, s.values);
    const served = scoreSegments(model, [
      { start: s.timestamps[0], step: STEP, values: Array.from(s.values) },
    ]);
    const byT = new Map(served.scores);
    for (let i = 0; i < rows.length; i++) expect(rows[i]).toBe(byT.get(s.timestamps[i]) ?? 0);
    expect(rows[0]).toBe(0);
    expect(rows[1000]).toBeGreaterThan(0.5);
  });

  it('answers zeros for a series too short to score, and for one with no spacing', () => {
    expect(Array.from(rowScores(model, [1, 301, 601], [1, 2, 3]))).toEqual([0, 0, 0]);
    expect(Array.from(rowScores(model, [5], [1]))).toEqual([0]);
  });
});

describe('calibrate', () => {
  it("takes the standard profile's swept threshold, capped at 1, and reports every profile", () => {
    const corpus = [
      labelled('a/x.csv', 'a', 5, 1000),
      labelled('b/y.csv', 'b', 6, 900),
      labelled('c/z.csv', 'c', 7, 1100),
    ];
    const cal = calibrate(model, corpus);
    expect(cal.results.map((r) => r.profile)).toEqual([
      'standard',
      'reward_low_FP_rate',
      'reward_low_FN_rate',
    ]);
    expect(cal.threshold).toBe(Math.min(1, cal.results[0].threshold));
    expect(cal.threshold).toBeGreaterThan(0);
    expect(cal.results[0].heldOutBy).toBe('category');
    expect(cal.results[0].score).toBeGreaterThan(50); // three clear jumps in three windows
  });
});

describe('alertRate', () => {
  it('counts runs of consecutive points at or over the threshold as one page each, per series-week', () => {
    const quiet = daily(3 * 2016, 9); // three weeks at 5 min
    const spiky = quiet.slice();
    for (const i of [3000, 3001, 3002, 5000]) spiky[i] += 20; // two episodes
    const series = [quiet, spiky].map((v) => ({
      step: STEP,
      segments: [{ start: 0, step: STEP, values: v }],
    }));
    const served = scoreSegments(model, series[1].segments).scores;
    const threshold = Math.min(
      served.find(([t]) => t === 3000 * STEP)![1],
      served.find(([t]) => t === 5000 * STEP)![1]
    );
    const r = alertRate(model, series, threshold);
    expect(r.series).toBe(2);
    const over = (s: Array<[number, number]>) => s.filter(([, x]) => x >= threshold).length;
    const quietOver = over(scoreSegments(model, series[0].segments).scores);
    expect(r.pages).toBeGreaterThanOrEqual(2 + (quietOver > 0 ? 1 : 0));
    expect(r.pagesPerSeriesWeek).toBeCloseTo(r.pages / r.seriesWeeks, 12);
    expect(r.seriesWeeks).toBeGreaterThan(5); // two series of three weeks, less the warm-up
    expect(r.seriesWeeks).toBeLessThan(6);
    // One series only, the run at 3000–3002 is one page, not three.
    const one = alertRate(model, [series[1]], Math.max(...served.map(([, x]) => x)) + 1e-12);
    expect(one.pages).toBe(0);
  });
});
