import {
  dampRepeats,
  detectorFromJSON,
  detectorToJSON,
  fitDetector,
  ONSET_DAMPING,
  quantile,
  scoreValues,
} from './detector';
import { FeatureError, type FeatureConfig } from './features';
import { mulberry32 } from '../series/random';

const STEP = 300;
const cfg: FeatureConfig = { window: 24, shortWindow: 4, names: ['value', 'diff', 'zscore', 'spread_ratio'] };

function series(n: number, seed: number): number[] {
  const r = mulberry32(seed);
  return Array.from({ length: n }, (_, i) => 50 + 10 * Math.sin((2 * Math.PI * i) / 96) + 3 * (r() - 0.5));
}

const training = [1, 2, 3].map((k) => ({ name: `s${k}`, step: STEP, values: series(600, k) }));

describe('fitDetector / scoreValues', () => {
  it('flags a planted spike and little else, at the contamination threshold', () => {
    const { detector } = fitDetector(training, { features: cfg, seed: 1, nTrees: 50, onsetSeconds: 0 });
    const v = series(400, 9);
    v[300] += 40;
    const s = scoreValues(detector, v, STEP);
    expect(Number.isNaN(s[23])).toBe(true); // not enough past yet
    expect(s[300]).toBeGreaterThanOrEqual(detector.threshold);
    const flagged = [...s].filter((x) => x >= detector.threshold).length;
    expect(flagged).toBeLessThan(10);
  });

  it('sets the threshold so about `contamination` of the training points cross it', () => {
    const { detector } = fitDetector(training, {
      features: cfg,
      seed: 1,
      nTrees: 50,
      threshold: { kind: 'contamination', contamination: 0.05 },
    });
    const all = training.flatMap((t) => [...scoreValues(detector, t.values, STEP)].filter((x) => x === x));
    const share = all.filter((x) => x >= detector.threshold).length / all.length;
    expect(share).toBeGreaterThan(0.04);
    expect(share).toBeLessThan(0.06);
  });

  it('is deterministic for a seed', () => {
    const a = fitDetector(training, { features: cfg, seed: 7, nTrees: 20 }).detector;
    const b = fitDetector(training, { features: cfg, seed: 7, nTrees: 20 }).detector;
    expect(JSON.stringify(detectorToJSON(a))).toBe(JSON.stringify(detectorToJSON(b)));
  });

  it('round-trips through JSON with identical scores', () => {
    const { detector } = fitDetector(training, { features: cfg, seed: 3, nTrees: 30 });
    const back = detectorFromJSON(JSON.parse(JSON.stringify(detectorToJSON(detector))));
    const v = series(300, 11);
    expect([...scoreValues(back, v, STEP)]).toEqual([...scoreValues(detector, v, STEP)]);
    expect(back.threshold).toBe(detector.threshold);
    expect(() => detectorFromJSON({ ...detectorToJSON(detector), threshold: 2 })).toThrow(/"threshold"/);
  });

  it('refuses to fit on constant or too-short series, saying which', () => {
    const constant = [{ name: 'idle', step: STEP, values: new Array(200).fill(0.1) }];
    expect(() => fitDetector(constant, { features: cfg })).toThrow(FeatureError);
    expect(() => fitDetector(constant, { features: cfg })).toThrow(/idle: constant series/);
    const short = [{ name: 'tiny', step: STEP, values: [1, 2, 3] }];
    expect(() => fitDetector(short, { features: cfg })).toThrow(/tiny: 3 points < 25/);
    const mixed = fitDetector([...constant, ...training], { features: cfg, nTrees: 5 });
    expect(mixed.skipped).toEqual([{ name: 'idle', reason: 'constant series' }]);
    expect(mixed.used).toEqual(['s1', 's2', 's3']);
  });
});

describe('dampRepeats', () => {
  it('keeps a score only where it tops the previous span, damping the rest of the episode', () => {
    const s = Float64Array.from([0.3, NaN, 0.9, 0.8, 0.95, 0.4, 0.4, 0.4, 0.85]);
    const d = dampRepeats(s, 3);
    expect(d[0]).toBe(0.3);
    expect(Number.isNaN(d[1])).toBe(true);
    expect(d[2]).toBe(0.9); // new maximum
    expect(d[3]).toBeCloseTo(0.8 * ONSET_DAMPING, 12); // below the 0.9 just before
    expect(d[4]).toBe(0.95); // tops it
    expect(d[7]).toBeCloseTo(0.4 * ONSET_DAMPING, 12);
    expect(d[8]).toBe(0.85); // 0.95 is more than 3 points back
  });
});

describe('quantile', () => {
  it('interpolates between order statistics', () => {
    expect(quantile([4, 1, 3, 2], 0.5)).toBe(2.5);
    expect(quantile([1, 2, 3], 1)).toBe(3);
    expect(() => quantile([], 0.5)).toThrow();
  });
});
