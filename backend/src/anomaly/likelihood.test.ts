import { fitDetector, scoreValues } from './detector';
import {
  anomalyLikelihood,
  erfc,
  gaussianTail,
  likelihoodConfig,
  likelihoodScores,
  logLikelihood,
  PUBLISHED_LIKELIHOOD,
  type LikelihoodConfig,
} from './likelihood';
import { mulberry32 } from '../series/random';

const published = likelihoodConfig(300); // W = 288 (one day at 5 min), W′ = 10, floor 0.0003

describe('gaussianTail', () => {
  it('matches tabulated values of Q(z)', () => {
    expect(gaussianTail(0)).toBeCloseTo(0.5, 7);
    expect(gaussianTail(1)).toBeCloseTo(0.158655, 6);
    expect(gaussianTail(-1)).toBeCloseTo(0.841345, 6);
    expect(gaussianTail(1.96)).toBeCloseTo(0.0249979, 6);
    // Far tail, relative error: Q(5) = 2.8665e-7, Q(6) = 9.8659e-10.
    expect(gaussianTail(5) / 2.8665e-7).toBeCloseTo(1, 3);
    expect(gaussianTail(6) / 9.8659e-10).toBeCloseTo(1, 3);
    expect(erfc(0)).toBeCloseTo(1, 7);
    expect(erfc(-3) + erfc(3)).toBeCloseTo(2, 12);
  });
});

describe('likelihoodConfig', () => {
  it('turns the published one-day window into points at the step; W′ stays 10 points', () => {
    expect(published).toEqual({ window: 288, shortWindow: 10, varianceFloor: 0.0003 });
    expect(likelihoodConfig(600).window).toBe(144);
    // A step so coarse that a day holds fewer than W′ points still averages W′ points.
    expect(likelihoodConfig(86400 / 4).window).toBe(PUBLISHED_LIKELIHOOD.shortWindow);
    expect(() => likelihoodConfig(0)).toThrow(RangeError);
  });
});

describe('anomalyLikelihood', () => {
  it('is 0.5 on a constant raw-score stream (log scale 0.0301)', () => {
    const L = anomalyLikelihood(new Array(400).fill(0.4), published);
    expect(Number.isNaN(L[286])).toBe(true); // fewer than W scores so far
    for (let i = 287; i < 400; i++) expect(L[i]).toBeCloseTo(0.5, 6);
    // ln(0.5000000001) / ln(1e-10) = 0.693147 / 23.025851
    expect(logLikelihood(L[399])).toBeCloseTo(0.030103, 5);
  });

  it('follows 1 − Q((μ̃ − μ)/σ) on a hand-checked window', () => {
    // Window [0, 0, 0, 1]: μ = 0.25, sample variance (1 − 4·0.0625)/3 = 0.25, σ = 0.5; μ̃ = (0 + 1)/2 = 0.5;
    // z = 0.5, 1 − Q(0.5) = 0.691462.
    const cfg: LikelihoodConfig = { window: 4, shortWindow: 2, varianceFloor: 1e-12 };
    const L = anomalyLikelihood([0, 0, 0, 1], cfg);
    expect(L[3]).toBeCloseTo(0.691462, 6);
    // The floor takes over when the window barely moves: σ² = max(0, 0.01) → σ = 0.1.
    const floored = anomalyLikelihood([0.2, 0.2, 0.2, 0.2], { ...cfg, varianceFloor: 0.01 });
    expect(floored[3]).toBeCloseTo(0.5, 6);
  });

  it('gives a high likelihood to a sustained jump, and below 0.5 to a drop (one-sided, as published)', () => {
    const up = [...new Array(300).fill(0.3), ...new Array(10).fill(0.9)];
    const L = anomalyLikelihood(up, published);
    // Last 288: 278 × 0.3 and 10 × 0.9: μ = 0.320833, σ = 0.110036, μ̃ = 0.9 → z = 5.2634, Q = 7.07e-8.
    expect(1 - L[309]).toBeGreaterThan(6.5e-8);
    expect(1 - L[309]).toBeLessThan(7.7e-8);
    expect(logLikelihood(L[309])).toBeCloseTo(0.7149, 3);
    // One raw point high is diluted by the W′ average: a much weaker signal than the sustained jump.
    expect(L[300]).toBeLessThan(L[309]);
    const down = [...new Array(300).fill(0.5), ...new Array(10).fill(0.1)];
    expect(anomalyLikelihood(down, published)[309]).toBeLessThan(0.5);
  });

  it('depends on the past only: appending points leaves earlier outputs unchanged; deterministic', () => {
    const r = mulberry32(7);
    const past = Array.from({ length: 500 }, () => 0.3 + 0.2 * r());
    const future = Array.from({ length: 100 }, () => r());
    const a = anomalyLikelihood(past, published);
    const b = anomalyLikelihood([...past, ...future], published);
    expect(Array.from(b.subarray(0, 500))).toEqual(Array.from(a));
    expect(Array.from(anomalyLikelihood(past, published))).toEqual(Array.from(a));
  });

  it('treats NaN as "not scored yet": outputs start W points after the first score', () => {
    const cfg: LikelihoodConfig = { window: 5, shortWindow: 2, varianceFloor: 0.0003 };
    const s = [NaN, NaN, 0.1, 0.2, 0.3, 0.2, 0.1, 0.2];
    const L = anomalyLikelihood(s, cfg);
    expect(Array.from(L.subarray(0, 6)).every(Number.isNaN)).toBe(true);
    expect(L[6]).toBeGreaterThan(0);
    expect(L[6]).toBeLessThan(1);
    expect(anomalyLikelihood([], cfg)).toHaveLength(0);
  });

  it('rejects bad input', () => {
    expect(() => anomalyLikelihood([0.1, Infinity, 0.2], published)).toThrow(/index 1/);
    const bad: LikelihoodConfig[] = [
      { window: 1, shortWindow: 1, varianceFloor: 0.0003 },
      { window: 10, shortWindow: 0, varianceFloor: 0.0003 },
      { window: 10, shortWindow: 11, varianceFloor: 0.0003 },
      { window: 10.5, shortWindow: 2, varianceFloor: 0.0003 },
      { window: 10, shortWindow: 2, varianceFloor: 0 },
      { window: 10, shortWindow: 2, varianceFloor: NaN },
    ];
    for (const cfg of bad) expect(() => anomalyLikelihood([0.1, 0.2], cfg)).toThrow(RangeError);
  });
});

describe('logLikelihood', () => {
  it('maps the paper alarm level 1 − 1e-5 to 0.5 and stays in [0, 1]', () => {
    expect(logLikelihood(1 - 1e-5)).toBeCloseTo(0.5, 4);
    expect(logLikelihood(0)).toBe(0);
    expect(logLikelihood(1)).toBeCloseTo(1, 6);
    expect(Number.isNaN(logLikelihood(NaN))).toBe(true);
  });
});

describe('likelihoodScores', () => {
  const r = mulberry32(3);
  const wave = (n: number) =>
    Array.from({ length: n }, (_, i) => 50 + 10 * Math.sin((2 * Math.PI * i) / 96) + 3 * (r() - 0.5));
  const { detector } = fitDetector([{ name: 't', step: 300, values: wave(800) }], {
    features: { window: 24, shortWindow: 4, names: ['value', 'diff', 'zscore', 'spread_ratio'] },
    nTrees: 30,
    seed: 1,
  });

  it('starts one likelihood window after the forest scores, in [0, 1], past-only', () => {
    const v = wave(700);
    const s = likelihoodScores(detector, v, 300);
    const first = scoreValues(detector, v, 300).findIndex((x) => x === x);
    expect(s.findIndex((x) => x === x)).toBe(first + 287);
    expect([...s.subarray(first + 287)].every((x) => x >= 0 && x <= 1)).toBe(true);
    const longer = likelihoodScores(detector, [...v, ...wave(50).map((x) => 3 * x)], 300);
    expect(Array.from(longer.subarray(0, 700))).toEqual(Array.from(s));
  });
});
