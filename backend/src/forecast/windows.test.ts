import type { Point } from '../series/types';
import { FEATURES, historyPoints, writeFeatures } from './lstm';
import { mulberry32 } from '../series/random';
import { buildWindows, changeRms, splitSeries, windowEnds } from './windows';

const cfg = { step: 600, lookback: 4, horizons: 2, seasonPeriod: 144, profileDays: 2 };

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
    const w = buildWindows([[a, b]], cfg, { maxPerSeries: 100, rng: mulberry32(1) });
    expect(w.count).toBe(2);
    expect(Array.from(w.last)).toEqual([3, 13]);
    // Targets are changes from the last value, inside the same segment.
    expect(Array.from(w.y)).toEqual([1, 2, 1, 2]);
  });

  it('caps windows per series with a seeded sample', () => {
    const seg = { start: 0, step: 600, values: Array.from({ length: 200 }, (_, i) => i) };
    const one = buildWindows([[seg]], cfg, { maxPerSeries: 10, rng: mulberry32(7) });
    const two = buildWindows([[seg]], cfg, { maxPerSeries: 10, rng: mulberry32(7) });
    expect(one.count).toBe(10);
    expect(Array.from(one.last)).toEqual(Array.from(two.last));
  });

  it("gives every window its series' weight, and none without seriesWeight", () => {
    const seg = (n: number, base: number) => ({
      start: 0,
      step: 600,
      values: Array.from({ length: n }, (_, i) => base + i),
    });
    const w = buildWindows([[seg(8, 0)], [seg(7, 100)]], cfg, {
      maxPerSeries: 100,
      rng: mulberry32(1),
      seriesWeight: [2, 0.5],
    });
    // 8 − 4 − 2 + 1 = 3 windows from the first series, 2 from the second.
    expect(Array.from(w.last)).toEqual([3, 4, 5, 103, 104]);
    expect(Array.from(w.weight!)).toEqual([2, 2, 2, 0.5, 0.5]);
    expect(
      buildWindows([[seg(8, 0)]], cfg, { maxPerSeries: 100, rng: mulberry32(1) }).weight
    ).toBeUndefined();
  });
});

describe('changeRms', () => {
  it('is the RMS of the H-step change over every segment, gaps not crossed', () => {
    // H = 2: changes 2, 2 in the first segment (0,1,2,3), 4 in the second (10,12,14 → 14 − 10).
    const a = { start: 0, step: 600, values: [0, 1, 2, 3] };
    const b = { start: 99_000, step: 600, values: [10, 12, 14] };
    expect(changeRms([a, b], 2)).toBeCloseTo(Math.sqrt((4 + 4 + 16) / 3), 12);
    expect(changeRms([{ start: 0, step: 600, values: [1, 2] }], 2)).toBe(0);
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
    // The last row's day-before value is the one 144 - 6 points before the end, as a change from the last.
    expect(a[3 * FEATURES.length + FEATURES.indexOf('day_before_target_minus_last')]).toBe(
      200 + 6 - 144 - 200
    );
  });
});

describe('writeFeatures: daily profile', () => {
  const F = FEATURES.length;
  const P = 144;
  const at = (name: string) => FEATURES.indexOf(name);
  // A strictly periodic day: every profile equals the value one season earlier.
  const day = (i: number) => Math.sin((2 * Math.PI * (i % P)) / P) + (i % 8) / 10;

  it('gives the seasonal change to each target and no residual on a periodic series', () => {
    const c = { step: 600, lookback: 8, horizons: 6, seasonPeriod: P, profileDays: 3 };
    const values = Array.from({ length: 8 * P }, (_, i) => day(i));
    const end = 5 * P + 17;
    const out = new Float32Array(c.lookback * F);
    writeFeatures(values, end, 0, c, out, 0);
    for (let h = 1; h <= c.horizons; h++) {
      // Row end − H + h is tied to target end + h.
      const row = c.lookback - c.horizons + h - 1;
      // 3-point means on both sides: compare with the same smoothing of the true periodic values.
      const smooth = (t: number) => (day(t - 1) + day(t) + day(t + 1)) / 3;
      expect(out[row * F + at('profile_target_minus_profile_now')]).toBeCloseTo(
        smooth(end + h) - smooth(end),
        5
      );
      expect(out[row * F + at('day_before_target_minus_last')]).toBeCloseTo(day(end + h) - day(end), 5);
    }
    for (let j = 0; j < c.lookback; j++) {
      const i = end - c.lookback + 1 + j;
      const smooth = (day(i - 1) + day(i) + day(i + 1)) / 3;
      expect(out[j * F + at('value_minus_profile')]).toBeCloseTo(day(i) - smooth, 5);
      expect(out[j * F + at('profile_days')]).toBe(1);
    }
  });

  it('uses only the whole days every row has, and none before one day of history', () => {
    const c = { step: 600, lookback: 8, horizons: 6, seasonPeriod: P, profileDays: 7 };
    const values = Array.from({ length: 10 * P }, (_, i) => day(i));
    const out = new Float32Array(c.lookback * F);
    // The profile reaches back to end − P − H + 1 (the last day of h-step errors): two days behind it.
    writeFeatures(values, 3 * P + 6, 0, c, out, 0);
    expect(out[at('profile_days')]).toBeCloseTo(2 / 7, 6);
    writeFeatures(values, 3 * P + 5, 0, c, out, 0); // one point short of two
    expect(out[at('profile_days')]).toBeCloseTo(1 / 7, 6);
    writeFeatures(values, 2 * P + 5, 0, c, out, 0); // one point short of one
    for (let j = 0; j < c.lookback; j++) {
      expect(out[j * F + at('profile_days')]).toBe(0);
      expect(out[j * F + at('profile_target_minus_profile_now')]).toBe(0);
      expect(out[j * F + at('value_minus_profile')]).toBe(0);
    }
  });

  it('reads nothing after the window end, whatever the profile length', () => {
    const c = { step: 600, lookback: 24, horizons: 6, seasonPeriod: P, profileDays: 7 };
    const values = Array.from({ length: 12 * P }, (_, i) => day(i) + i / 1000);
    for (const end of [P - 1, 3 * P + 5, 8 * P + 100]) {
      const a = new Float32Array(c.lookback * F);
      const b = new Float32Array(c.lookback * F);
      writeFeatures(values, end, 1_700_000_000, c, a, 0);
      writeFeatures(
        values.map((v, i) => (i > end ? NaN : v)),
        end,
        1_700_000_000,
        c,
        b,
        0
      );
      expect(Array.from(b)).toEqual(Array.from(a));
      expect(a.every(Number.isFinite)).toBe(true);
    }
  });

  it('reads at most historyPoints values back', () => {
    const c = { step: 600, lookback: 24, horizons: 6, seasonPeriod: P, profileDays: 3 };
    const values = Array.from({ length: 10 * P }, (_, i) => day(i) + i / 1000);
    const end = values.length - 1;
    const need = historyPoints(c);
    const a = new Float32Array(c.lookback * F);
    const b = new Float32Array(c.lookback * F);
    writeFeatures(values, end, 0, c, a, 0);
    writeFeatures(values.slice(end + 1 - need), need - 1, 0, c, b, 0);
    expect(Array.from(b)).toEqual(Array.from(a));
  });
});

describe('writeFeatures: levels and recent errors', () => {
  const F = FEATURES.length;
  const at = (name: string) => FEATURES.indexOf(name);
  const c = { step: 600, lookback: 6, horizons: 2, seasonPeriod: 144, profileDays: 1 };

  it('gives values as changes from the last one and the level clipped', () => {
    const values = Array.from({ length: 300 }, (_, i) => 5 + i / 100); // far above the scaler's [0, 1]
    const out = new Float32Array(c.lookback * F);
    writeFeatures(values, 299, 0, c, out, 0);
    for (let j = 0; j < c.lookback; j++) {
      expect(out[j * F + at('value_minus_last')]).toBeCloseTo(-(c.lookback - 1 - j) / 100, 5);
      expect(out[j * F + at('last_value_clipped')]).toBe(2);
    }
  });

  it('measures how persistence and seasonal naive did over the last day', () => {
    // A ramp of slope 0.001: every H-step change is 0.002 and every one-day change 0.144.
    const values = Array.from({ length: 400 }, (_, i) => i / 1000);
    const out = new Float32Array(c.lookback * F);
    writeFeatures(values, 399, 0, c, out, 0);
    expect(out[at('recent_change_rms')]).toBeCloseTo(0.002, 6);
    expect(out[at('recent_seasonal_rms')]).toBeCloseTo(0.144, 6);
    writeFeatures(values, 100, 0, c, out, 0); // under a day of history: no one-day pairs yet
    expect(out[at('recent_seasonal_rms')]).toBe(0);
    expect(out[at('recent_change_rms')]).toBeCloseTo(0.002, 6);
  });
});

describe('writeFeatures: combined forecast', () => {
  const F = FEATURES.length;
  const at = (name: string) => FEATURES.indexOf(name);
  const P = 144;
  const c = { step: 600, lookback: 8, horizons: 6, seasonPeriod: P, profileDays: 3 };

  it('follows the seasonal forecasts on a series that repeats every day', () => {
    const values = Array.from({ length: 6 * P }, (_, i) => 0.5 + 0.4 * Math.sin((2 * Math.PI * i) / P));
    const end = values.length - 1;
    const out = new Float32Array(c.lookback * F);
    writeFeatures(values, end, 0, c, out, 0);
    for (let h = 1; h <= c.horizons; h++) {
      const row = c.lookback - c.horizons + h - 1;
      const truth = 0.4 * Math.sin((2 * Math.PI * (end + h)) / P) - 0.4 * Math.sin((2 * Math.PI * end) / P);
      expect(out[row * F + at('combined_target_minus_last')]).toBeCloseTo(truth, 3);
      expect(out[row * F + at('recent_seasonal_rms')]).toBeCloseTo(0, 6);
      expect(out[row * F + at('recent_change_rms')]).toBeGreaterThan(0.005);
    }
  });

  it('stays near persistence on a series with no daily pattern', () => {
    // A deterministic zig-zag whose one-day-apart values disagree far more than neighbouring ones.
    const values = Array.from({ length: 6 * P }, (_, i) => 0.5 + 0.01 * Math.sin(i) + 0.3 * Math.sin(i / 37));
    const end = values.length - 1;
    const out = new Float32Array(c.lookback * F);
    writeFeatures(values, end, 0, c, out, 0);
    const row = c.lookback - 1; // horizon H
    const sn = out[row * F + at('day_before_target_minus_last')];
    const combined = out[row * F + at('combined_target_minus_last')];
    expect(Math.abs(combined)).toBeLessThan(Math.abs(sn));
  });
});

describe('buildWindows: per-series caps', () => {
  it('takes at most the cap of each series', () => {
    const seg = (n: number) => ({ start: 0, step: 600, values: Array.from({ length: n }, (_, i) => i) });
    const w = buildWindows([[seg(100)], [seg(100)]], cfg, { maxPerSeries: [5, 50], rng: mulberry32(3) });
    expect(w.count).toBe(55);
  });
});
