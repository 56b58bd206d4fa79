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
