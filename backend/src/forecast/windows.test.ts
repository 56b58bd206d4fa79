import type { Point } from '../series/types';
import { FEATURES, writeFeatures } from './lstm';
import { buildWindows, seededRandom, splitSeries, windowEnds } from './windows';

const cfg = { step: 600, lookback: 4, horizons: 2, seasonPeriod: 144 };

function ramp(n: number, start = 0, f = (i: number) => i): Point[] {
  return Array.from({ length: n }, (_, i) => [start + i * 600, f(i)] as Point);
}

describe('windowEnds', () => {
  it('keeps a full lookback behind and every horizon inside the segment', () => {
    expect(windowEnds(7, cfg)).toEqual([3, 4]);
    expect(windowEnds(5, cfg)).toEqual([]);
  });
});

describe('splitSeries', () => {
  it('fits the scaler on the training part only and never reads the test part', () => {
    // 100 points rising 0..99; the last 20 (the test part) are huge and must not move the scaler.
    const pts = ramp(100, 0, (i) => (i < 80 ? i : 1e6));
    const { split } = splitSeries([{ name: 's', points: pts }], { step: 600 });
    expect(split[0].scaler.toJSON()).toEqual({ min: 0, max: 79 });
    const seen = [...split[0].train, ...split[0].validation].flatMap((s) => s.values);
    expect(seen).toHaveLength(80);
    expect(Math.max(...seen)).toBe(1);
  });

  it('puts validation after training in time', () => {
    const { split } = splitSeries([{ name: 's', points: ramp(100) }], { step: 600 });
    const lastTrain = split[0].train.at(-1)!;
    expect(split[0].validation[0].start).toBe(lastTrain.start + lastTrain.values.length * 600);
  });

  it('skips constant and too-short series and says why', () => {
    const { split, skipped } = splitSeries(
      [
        { name: 'flat', points: ramp(50, 0, () => 3) },
        { name: 'one', points: [[0, 1]] },
      ],
      { step: 600 }
    );
    expect(split).toHaveLength(0);
    expect(skipped).toEqual([
      { name: 'flat', reason: 'constant' },
      { name: 'one', reason: 'too_short' },
    ]);
  });
});

describe('buildWindows', () => {
  it('never lets a window cross a gap', () => {
    // Two segments of 6 points split by a long gap: each yields 6 - 4 - 2 + 1 = 1 window.
    const a = { start: 0, step: 600, values: [0, 1, 2, 3, 4, 5] };
    const b = { start: 100_000, step: 600, values: [10, 11, 12, 13, 14, 15] };
    const w = buildWindows([[a, b]], cfg, { maxPerSeries: 100, rng: seededRandom(1) });
    expect(w.count).toBe(2);
    expect(Array.from(w.last)).toEqual([3, 13]);
    // Targets are changes from the last value, inside the same segment.
    expect(Array.from(w.y)).toEqual([1, 2, 1, 2]);
  });

  it('caps windows per series with a seeded sample', () => {
    const seg = { start: 0, step: 600, values: Array.from({ length: 200 }, (_, i) => i) };
    const one = buildWindows([[seg]], cfg, { maxPerSeries: 10, rng: seededRandom(7) });
    const two = buildWindows([[seg]], cfg, { maxPerSeries: 10, rng: seededRandom(7) });
    expect(one.count).toBe(10);
    expect(Array.from(one.last)).toEqual(Array.from(two.last));
  });
});

describe('writeFeatures', () => {
  it('reads only values at or before the window end', () => {
    const values = Array.from({ length: 300 }, (_, i) => i);
    const big = { ...cfg, lookback: 4, horizons: 6, seasonPeriod: 144 };
    const a = new Float32Array(4 * FEATURES.length);
    const b = new Float32Array(4 * FEATURES.length);
    writeFeatures(values, 200, 0, big, a, 0);
    const changedFuture = values.map((v, i) => (i > 200 ? -999 : v));
    writeFeatures(changedFuture, 200, 0, big, b, 0);
    expect(Array.from(a)).toEqual(Array.from(b));
    // The last row's day-before value is the one 144 - 6 points before the end.
    expect(a[3 * FEATURES.length + 3]).toBe(200 + 6 - 144);
  });
});
