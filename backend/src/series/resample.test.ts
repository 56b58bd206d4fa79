import { finitePoints, resample, segmentPoints } from './resample';
import type { Point } from './types';

describe('resample', () => {
  it('averages points per bucket, in any input order', () => {
    const pts: Point[] = [
      [630, 3],
      [0, 1],
      [300, 3],
      [600, 5],
    ];
    expect(resample(pts, 600)).toEqual([{ start: 0, step: 600, values: [2, 4] }]);
  });

  it('interpolates a hole of one missing bucket linearly', () => {
    const pts: Point[] = [
      [0, 1],
      [1200, 5],
    ];
    expect(resample(pts, 600)[0].values).toEqual([1, 3, 5]);
  });

  it('splits at a gap of more than two steps', () => {
    const pts: Point[] = [
      [0, 1],
      [600, 2],
      [2400, 7],
      [3000, 8],
    ];
    const segs = resample(pts, 600);
    expect(segs).toEqual([
      { start: 0, step: 600, values: [1, 2] },
      { start: 2400, step: 600, values: [7, 8] },
    ]);
  });

  it('treats NaN and ±Inf as missing', () => {
    const pts: Point[] = [
      [0, 1],
      [600, NaN],
      [1200, 3],
      [1800, Infinity],
      [2400, -Infinity],
      [3000, 9],
    ];
    const segs = resample(pts, 600);
    expect(segs.map((s) => s.values)).toEqual([[1, 2, 3], [9]]);
  });

  it('aligns buckets to an origin', () => {
    const pts: Point[] = [
      [100, 1],
      [700, 2],
    ];
    expect(resample(pts, 600, { origin: 100 })).toEqual([{ start: 100, step: 600, values: [1, 2] }]);
    expect(segmentPoints({ start: 100, step: 600, values: [1, 2] })).toEqual(pts);
  });

  it('gives the same segments for time-ordered and shuffled input (one-pass and general paths)', () => {
    let seed = 17;
    const rand = () => ((seed = (seed * 16807) % 2147483647) - 1) / 2147483646;
    const pts: Point[] = [];
    for (let t = 1000; t < 60_000; t += 30 + Math.floor(rand() * 400)) {
      if (rand() < 0.05) t += 2000; // holes, some longer than maxGapSteps
      pts.push([t, rand() < 0.03 ? NaN : Math.round(rand() * 100) / 10]);
    }
    const shuffled = [...pts].sort(() => rand() - 0.5);
    const ordered = resample(pts, 300, { origin: 50 });
    expect(ordered.length).toBeGreaterThan(1);
    const general = resample(shuffled, 300, { origin: 50 });
    // Same buckets and segments; the means agree up to summation order.
    expect(general.map((g) => [g.start, g.values.length])).toEqual(
      ordered.map((o) => [o.start, o.values.length])
    );
    general.forEach((g, i) => g.values.forEach((v, j) => expect(v).toBeCloseTo(ordered[i].values[j], 12)));
  });

  it('returns nothing for no points and refuses a bad step', () => {
    expect(resample([], 60)).toEqual([]);
    expect(() => resample([[0, 1]], 0)).toThrow(/step/);
  });
});

describe('finitePoints', () => {
  it('counts what it drops', () => {
    expect(
      finitePoints([
        [0, 1],
        [1, NaN],
        [2, Infinity],
      ])
    ).toEqual({ points: [[0, 1]], dropped: 2 });
  });
});
