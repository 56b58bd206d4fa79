import { computeFeatures, FeatureError, minimumPoints, type FeatureConfig } from './features';
import { mulberry32 } from '../series/random';

const STEP = 300;
const DAY = 86400 / STEP; // 288 points

function noise(n: number, seed: number, level = 50, sd = 2): number[] {
  const r = mulberry32(seed);
  return Array.from({ length: n }, () => level + sd * (r() + r() + r() - 1.5));
}

const plain: FeatureConfig = {
  window: 48,
  shortWindow: 6,
  names: ['value', 'diff', 'zscore', 'spread_ratio'],
};
const seasonal: FeatureConfig = { ...plain, seasonSeconds: 86400, seasonToleranceSeconds: 1800 };

describe('computeFeatures', () => {
  it('uses only the past: changing later values leaves earlier rows untouched', () => {
    const a = noise(800, 1);
    const b = [...a];
    for (let i = 600; i < b.length; i++) b[i] += 100 * Math.sin(i);
    for (const cfg of [plain, seasonal]) {
      const fa = computeFeatures(a, STEP, cfg);
      const fb = computeFeatures(b, STEP, cfg);
      const upTo = fa.index.indexOf(599);
      expect(upTo).toBeGreaterThan(0);
      expect(fb.rows.slice(0, upTo + 1)).toEqual(fa.rows.slice(0, upTo + 1));
      expect(fb.rows[upTo + 1]).not.toEqual(fa.rows[upTo + 1]);
    }
  });

  it('starts at the first point with a full past and needs a season more with seasonal gating', () => {
    expect(minimumPoints(plain, STEP)).toBe(49);
    expect(minimumPoints(seasonal, STEP)).toBe(48 + 288 + 6 + 1);
    expect(minimumPoints(seasonal, 600)).toBe(48 + 144 + 3 + 1);
    const f = computeFeatures(noise(100, 2), STEP, plain);
    expect(f.index[0]).toBe(48);
    expect(f.rows).toHaveLength(52);
  });

  it('is free of the unit: scaling the series (cores → millicores, % → fraction) gives the same features', () => {
    const a = noise(400, 3);
    const b = a.map((v) => 1000 * v);
    const fa = computeFeatures(a, STEP, plain).rows;
    const fb = computeFeatures(b, STEP, plain).rows;
    fa.forEach((row, k) => row.forEach((x, j) => expect(fb[k][j]).toBeCloseTo(x, 6)));
  });

  it('makes a spike stand out in z-score, difference and value', () => {
    const v = noise(200, 4);
    v[150] += 30; // 15 spreads
    const f = computeFeatures(v, STEP, plain);
    const k = f.index.indexOf(150);
    const [value, diff, z] = f.rows[k];
    expect(z).toBeGreaterThan(2);
    expect(diff).toBeGreaterThan(2);
    expect(value).toBeGreaterThan(1);
    expect(Math.abs(f.rows[k - 5][2])).toBeLessThan(1.5);
  });

  it('with seasonal gating, a spike that came at the same time yesterday no longer stands out', () => {
    const v = noise(3 * DAY, 5);
    const spikeToday = 2 * DAY + 100;
    v[spikeToday - DAY + 2] += 30; // yesterday, 10 minutes later
    v[spikeToday] += 30;
    const newSpike = 2 * DAY + 200; // nothing like it a day earlier
    v[newSpike] += 30;
    const f = computeFeatures(v, STEP, seasonal);
    const zAt = (i: number) => f.rows[f.index.indexOf(i)][2];
    expect(Math.abs(zAt(spikeToday))).toBeLessThan(0.5);
    expect(zAt(newSpike)).toBeGreaterThan(2);
  });

  it('measures exceedance beyond everything the past season did, and nothing inside it', () => {
    const cfg: FeatureConfig = { ...seasonal, names: ['exceedance'] };
    const v = noise(4 * DAY, 10);
    v[2 * DAY + 50] += 20; // an old peak, within the day before the points below
    v[3 * DAY] += 15; // lower than that peak: inside the envelope
    v[3 * DAY + 100] += 40; // a new high
    const f = computeFeatures(v, STEP, cfg);
    const at = (i: number) => f.rows[f.index.indexOf(i)][0];
    expect(at(3 * DAY)).toBe(0);
    expect(at(3 * DAY + 100)).toBeGreaterThan(2);
    expect(at(3 * DAY + 10)).toBe(0);
    // Its first row: two seasons and the tolerance in, so the day before it was compared with a full day.
    expect(f.index[0]).toBe(2 * DAY + 6);
  });

  it('refuses NaN, short series and bad configs with a clear FeatureError', () => {
    const v = noise(100, 6);
    v[10] = NaN;
    expect(() => computeFeatures(v, STEP, plain)).toThrow(/value at index 10 is NaN/);
    try {
      computeFeatures(noise(40, 7), STEP, plain);
      throw new Error('no error');
    } catch (e) {
      expect(e).toBeInstanceOf(FeatureError);
      expect((e as FeatureError).reason).toBe('too_short');
      expect((e as Error).message).toMatch(/40 points; the anomaly features need at least 49/);
    }
    expect(() => computeFeatures(noise(100, 8), STEP, { ...plain, window: 2 })).toThrow(/window must be/);
    expect(() => computeFeatures(noise(100, 8), STEP, { ...plain, names: ['nope' as never] })).toThrow(
      /unknown feature/
    );
    expect(() => computeFeatures(noise(100, 8), 0, plain)).toThrow(/step must be > 0/);
  });

  it('uses forecast residuals when configured, and demands them', () => {
    const cfg: FeatureConfig = { ...plain, names: ['zscore', 'residual'] };
    const v = noise(200, 9);
    expect(() => computeFeatures(v, STEP, cfg)).toThrow(/needs one residual per point/);
    const residuals: number[] = v.map((_, i) => (i === 120 ? 20 : i % 2 ? 0.5 : -0.5));
    residuals[130] = NaN; // no forecast there: the point is skipped
    const f = computeFeatures(v, STEP, cfg, residuals);
    expect(f.index).not.toContain(130);
    expect(f.rows[f.index.indexOf(120)][1]).toBeGreaterThan(2);
    expect(Math.abs(f.rows[f.index.indexOf(121)][1])).toBeLessThan(1);
  });

  it('treats a constant series as entirely ordinary rather than dividing by zero', () => {
    const f = computeFeatures(new Array(100).fill(3), STEP, plain);
    for (const row of f.rows) for (const x of row) expect(Number.isFinite(x)).toBe(true);
  });
});

describe('computeFeatures on a stream', () => {
  it("gives a point the same features, to the bit, wherever the input starts (its window's only)", () => {
    const r = mulberry32(11);
    const values = Array.from(
      { length: 700 },
      (_, i) => 50 + 20 * Math.sin(i / 23) + 5 * r() + (i % 91 === 3 ? 40 : 0)
    );
    const withResidual: FeatureConfig = {
      window: 48,
      shortWindow: 6,
      names: ['value', 'diff', 'zscore', 'spread_ratio', 'exceedance', 'residual'],
      seasonSeconds: 86400,
      seasonToleranceSeconds: 1800,
    };
    const residuals = values.map((_, i) => (i % 13 === 0 ? NaN : r() - 0.5));
    const full = computeFeatures(values, 600, withResidual, residuals);
    const rowAt = new Map(full.index.map((i, k) => [i, full.rows[k]]));
    for (const k of [1, 7, 144, 300]) {
      const part = computeFeatures(values.slice(k), 600, withResidual, residuals.slice(k));
      expect(part.rows.length).toBeGreaterThan(0);
      part.index.forEach((i, j) => {
        expect(Buffer.from(part.rows[j].buffer).equals(Buffer.from(rowAt.get(i + k)!.buffer))).toBe(true);
      });
    }
  });
});
