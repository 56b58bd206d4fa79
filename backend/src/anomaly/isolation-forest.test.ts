import { mulberry32 } from '../series/random';
import { averagePathLength, IsolationForest } from './isolation-forest';

function gaussian2d(n: number, seed: number): number[][] {
  const rand = mulberry32(seed);
  const g = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  return Array.from({ length: n }, () => [g(), g()]);
}

describe('averagePathLength c(n)', () => {
  it('matches 2H(n−1) − 2(n−1)/n with H(i) ≈ ln i + γ, and the exact small cases', () => {
    expect(averagePathLength(0)).toBe(0);
    expect(averagePathLength(1)).toBe(0);
    expect(averagePathLength(2)).toBe(1);
    // c(3) = 2(ln 2 + γ) − 4/3 = 2(0.693147 + 0.577216) − 1.333333
    expect(averagePathLength(3)).toBeCloseTo(1.207392, 6);
    // c(256) = 2(ln 255 + γ) − 510/256 = 2(5.541264 + 0.577216) − 1.992188
    expect(averagePathLength(256)).toBeCloseTo(10.24477, 5);
  });
});

describe('IsolationForest', () => {
  const data = gaussian2d(1000, 7);
  const outlier = [6, 6];
  const rows = [...data, outlier];

  it('scores a planted outlier above 0.7 and the bulk of a 2-D Gaussian below 0.5', () => {
    const forest = new IsolationForest({ seed: 3 }).fit(rows);
    expect(forest.score(outlier)).toBeGreaterThan(0.7);
    const scores = data.map((x) => forest.score(x));
    const bulk = data.map((x, i) => [Math.hypot(x[0], x[1]), scores[i]]).filter(([r]) => r < 1.5);
    expect(bulk.length).toBeGreaterThan(600);
    for (const [, s] of bulk) expect(s).toBeLessThan(0.5);
    const sorted = [...scores].sort((a, b) => a - b);
    expect(sorted[500]).toBeLessThan(0.5);
  });

  it('uses ψ = min(256, n) rows per tree and height limit ⌈log2 ψ⌉', () => {
    const big = new IsolationForest({ seed: 1, nTrees: 5 }).fit(rows).toJSON();
    expect(big.sampleSize).toBe(256);
    expect(big.heightLimit).toBe(8);
    const small = new IsolationForest({ seed: 1, nTrees: 5 }).fit(rows.slice(0, 100)).toJSON();
    expect(small.sampleSize).toBe(100);
    expect(small.heightLimit).toBe(7);
    // No path is longer than the height limit: a leaf's path is its depth plus c(size) ≤ limit + c(ψ).
    for (const t of big.trees)
      for (const p of t.leafPath) expect(p).toBeLessThanOrEqual(8 + averagePathLength(256));
  });

  it('is deterministic for a seed and differs across seeds', () => {
    const a = new IsolationForest({ seed: 11 }).fit(rows);
    const b = new IsolationForest({ seed: 11 }).fit(rows);
    const c = new IsolationForest({ seed: 12 }).fit(rows);
    expect(JSON.stringify(a.toJSON())).toBe(JSON.stringify(b.toJSON()));
    expect(a.scoreMany(rows)).toEqual(b.scoreMany(rows));
    expect(a.scoreMany(rows)).not.toEqual(c.scoreMany(rows));
  });

  it('scores many rows tree by tree exactly as one by one, and checks their width', () => {
    const f = new IsolationForest({ seed: 9, nTrees: 37 }).fit(rows);
    const r = mulberry32(4);
    const probe = Array.from({ length: 300 }, () => [4 * r() - 2, 4 * r() - 2]);
    const many = f.scoreMany(probe);
    probe.forEach((x, i) => expect(Object.is(many[i], f.score(x))).toBe(true));
    expect(f.scoreMany([])).toHaveLength(0);
    expect(() => f.scoreMany([[1, 2], [1]])).toThrow(/expected 2 features, got 1/);
  });

  it('reproduces scores exactly after a JSON round trip', () => {
    const f = new IsolationForest({ seed: 5, nTrees: 50 }).fit(rows);
    const g = IsolationForest.fromJSON(JSON.parse(JSON.stringify(f.toJSON())));
    const probe = [...gaussian2d(200, 99), [10, -3], [0, 0]];
    for (const x of probe) expect(g.score(x)).toBe(f.score(x));
  });

  it('rejects corrupt JSON with a message saying what is wrong', () => {
    const j = new IsolationForest({ seed: 5, nTrees: 3 }).fit(rows).toJSON();
    expect(() => IsolationForest.fromJSON(null)).toThrow(/not an object/);
    expect(() => IsolationForest.fromJSON({ ...j, format: 'x' })).toThrow(/unknown forest format/);
    expect(() => IsolationForest.fromJSON({ ...j, trees: j.trees.slice(1) })).toThrow(/expected 3 trees/);
    const broken = JSON.parse(JSON.stringify(j));
    broken.trees[1].left[0] = 0; // a cycle back to the root
    expect(() => IsolationForest.fromJSON(broken)).toThrow(/tree 1 is malformed/);
  });

  it('refuses bad training input', () => {
    expect(() => new IsolationForest().fit([[1, 2]])).toThrow(/at least 2 rows/);
    expect(() => new IsolationForest().fit([[1, 2], [1]])).toThrow(/row 1 has 1 features/);
    expect(() =>
      new IsolationForest().fit([
        [1, NaN],
        [1, 2],
      ])
    ).toThrow(/row 0 feature 1 is NaN/);
    const f = new IsolationForest({ nTrees: 2 }).fit([
      [1, 2],
      [3, 4],
      [5, 6],
    ]);
    expect(() => f.score([1])).toThrow(/expected 2 features/);
  });

  it('gives identical points the same, ordinary score', () => {
    const same = Array.from({ length: 50 }, () => [1, 1]);
    const f = new IsolationForest({ seed: 2, nTrees: 10 }).fit(same);
    // All 50 land in the root leaf: E(h) = c(50), so s = 2^(−c(50)/c(50)) = 0.5.
    expect(f.score([1, 1])).toBeCloseTo(0.5, 12);
  });
});
