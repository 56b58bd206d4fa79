import {
  dampRepeats,
  DEFAULT_BREAKOUT,
  detectorFromJSON,
  detectorToJSON,
  fitDetector,
  markBreakouts,
  ONSET_DAMPING,
  quantile,
  scoreValues,
  stepNoise,
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

describe('markBreakouts', () => {
  const rule = { tolerance: 0.05, lookbackSeconds: 4 * STEP };
  const mark = (v: number[], scores = v.map(() => 0.3)) => [
    ...markBreakouts(v, Float64Array.from(scores), STEP, rule),
  ];

  it('scores 1 a value beyond the past range by more than tolerance × that range, either side', () => {
    // Past range [1, 2], margin 0.05: 2.04 and 0.96 stay inside, 2.06 and 0.94 break out.
    expect(mark([1, 2, 1, 2, 2.04])[4]).toBe(0.3);
    expect(mark([1, 2, 1, 2, 2.06])[4]).toBe(1);
    expect(mark([1, 2, 1, 2, 0.96])[4]).toBe(0.3);
    expect(mark([1, 2, 1, 2, 0.94])[4]).toBe(1);
  });

  it('looks back lookbackSeconds only, and uses the shorter past of a young series', () => {
    // At index 5 the past is 1 … 4 (values 2, 1, 2, 1.5): 9 at index 0 has dropped out.
    expect(mark([9, 2, 1, 2, 1.5, 2.5])[5]).toBe(1);
    expect(mark([9, 2, 1, 2, 2.5])[4]).toBe(0.3);
    // Index 2 has two points of past, [1, 2]: 3 breaks out of them.
    expect(mark([1, 2, 3])[2]).toBe(1);
  });

  it('leaves points without a score, and points after a flat past, as they are', () => {
    expect(Number.isNaN(mark([1, 2, 1, 2, 5], [NaN, NaN, NaN, NaN, NaN])[4])).toBe(true);
    expect(mark([3, 3, 3, 3, 50])[4]).toBe(0.3);
    expect(mark([7])[0]).toBe(0.3);
  });

  it('with noiseMargin, needs a step beyond one ordinary change too: a new high by less stays quiet', () => {
    const marks = (v: number[], noiseMargin = 1) => [
      ...markBreakouts(
        v,
        Float64Array.from(v, () => 0.3),
        STEP,
        { ...rule, lookbackSeconds: 40 * STEP, noiseMargin }
      ),
    ];
    // 10 ± 1 alternating: range [9, 11], changes ±2 (their spread 2). 11.3 is a new high by 0.3, past the
    // 5 % tolerance (0.1) but not one ordinary change: only the margin keeps it quiet. 14 breaks out of both.
    const calm = Array.from({ length: 40 }, (_, i) => (i % 2 ? 11 : 9));
    expect(marks([...calm, 11.3], 0)[40]).toBe(1);
    expect(marks([...calm, 11.3])[40]).toBe(0.3);
    expect(marks([...calm, 14])[40]).toBe(1);
    expect(marks([...calm, 6.5])[40]).toBe(1);
  });

  it('reads the noise over its own window only: the same marks however much of the series precedes it', () => {
    const noisy = { ...rule, lookbackSeconds: 30 * STEP, noiseMargin: 1 };
    const v = series(400, 5).map((x, i) => x + (i % 53 === 0 ? 3 : 0) + 0.01 * i);
    const all = markBreakouts(
      v,
      Float64Array.from(v, () => 0.3),
      STEP,
      noisy
    );
    for (const cut of [50, 123, 300]) {
      const tail = markBreakouts(
        v.slice(cut),
        Float64Array.from(v.slice(cut), () => 0.3),
        STEP,
        noisy
      );
      // Once the tail has its whole look-back, its marks are the stream's.
      for (let i = 31; i < tail.length; i++) expect(tail[i]).toBe(all[cut + i]);
    }
    expect(stepNoise([1, 3, 1, 3, 1], 5, 5)).toBe(2); // changes +2, −2, +2, −2 among the 5 points before index 5
    expect(stepNoise([1, 3], 2, 4)).toBe(0); // fewer than two changes: no noise
    expect(() =>
      detectorFromJSON({
        ...detectorToJSON(fitDetector(training, { features: cfg, seed: 3, nTrees: 5 }).detector),
        breakout: { ...rule, noiseMargin: -1 },
      })
    ).toThrow(/noiseMargin/);
  });

  it('is on by default, saved with the detector, and off with breakout: null or in older JSON', () => {
    const { detector } = fitDetector(training, { features: cfg, seed: 3, nTrees: 10 });
    expect(detector.breakout).toEqual(DEFAULT_BREAKOUT);
    const v = series(300, 11);
    v[290] = 500;
    expect(scoreValues(detector, v, STEP)[290]).toBe(1);
    const json = detectorToJSON(detector);
    expect(detectorFromJSON(JSON.parse(JSON.stringify(json))).breakout).toEqual(DEFAULT_BREAKOUT);
    const { breakout: _dropped, ...older } = json;
    expect(detectorFromJSON(older).breakout).toBeUndefined();
    expect(() => detectorFromJSON({ ...json, breakout: { tolerance: -1, lookbackSeconds: 60 } })).toThrow(
      /breakout: "tolerance"/
    );
    expect(() => detectorFromJSON({ ...json, breakout: { tolerance: 0.05 } })).toThrow(/"lookbackSeconds"/);
    const off = fitDetector(training, { features: cfg, seed: 3, nTrees: 10, breakout: null }).detector;
    expect(off.breakout).toBeUndefined();
    expect(scoreValues(off, v, STEP)[290]).toBeLessThan(1);
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
