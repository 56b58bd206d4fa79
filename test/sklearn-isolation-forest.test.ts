/**
 * Our Isolation Forest against scikit-learn's reference implementation on one fixed data set: the two
 * are different random forests, so scores agree in distribution and ranking, not point by point.
 * Needs Debian's python3-sklearn (`apt-get install python3-sklearn`; CI installs it).
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { IsolationForest } from '../backend/src/anomaly/isolation-forest';
import { mulberry32 } from '../backend/src/series/random';

const PYTHON = '/usr/bin/python3';
const probe = spawnSync(PYTHON, ['-c', 'import sklearn'], { encoding: 'utf8' });
const haveSklearn = probe.status === 0;
if (!haveSklearn) {
  console.warn(
    `skipping the scikit-learn comparison: \`${PYTHON} -c "import sklearn"\` failed ` +
      `(${(probe.stderr || probe.error?.message || 'no output').trim().split('\n').pop()}); ` +
      'install it with `apt-get install python3-sklearn`'
  );
}

/** 1900 points from two Gaussian clusters and 100 uniform outliers, from a fixed seed. */
function dataset(): number[][] {
  const r = mulberry32(2024);
  const g = () => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
  const rows: number[][] = [];
  for (let i = 0; i < 1900; i++) {
    const c = i % 2 ? [2, 2] : [-2, -1];
    rows.push([c[0] + g(), c[1] + 0.5 * g(), g()]);
  }
  for (let i = 0; i < 100; i++) rows.push([16 * r() - 8, 16 * r() - 8, 16 * r() - 8]);
  return rows;
}

function sklearnScores(rows: number[][]): number[] {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'prescaler-sklearn-'));
  try {
    const csv = path.join(dir, 'x.csv');
    fs.writeFileSync(csv, rows.map((r) => r.join(',')).join('\n'));
    const script = [
      'import json, sys, numpy as np',
      'from sklearn.ensemble import IsolationForest',
      'X = np.loadtxt(sys.argv[1], delimiter=",")',
      'f = IsolationForest(n_estimators=300, max_samples=256, random_state=0).fit(X)',
      // score_samples is −s(x, ψ) in the paper's terms
      'print(json.dumps((-f.score_samples(X)).tolist()))',
    ].join('\n');
    const out = spawnSync(PYTHON, ['-c', script, csv], { encoding: 'utf8', maxBuffer: 1 << 26 });
    if (out.status !== 0) throw new Error(`scikit-learn run failed: ${out.stderr}`);
    return JSON.parse(out.stdout);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function ranks(x: number[]): number[] {
  const order = x.map((v, i) => [v, i]).sort((a, b) => a[0] - b[0]);
  const r = new Array(x.length);
  order.forEach(([, i], k) => (r[i] = k));
  return r;
}

function spearman(a: number[], b: number[]): number {
  const ra = ranks(a);
  const rb = ranks(b);
  const n = a.length;
  const d2 = ra.reduce((s, r, i) => s + (r - rb[i]) ** 2, 0);
  return 1 - (6 * d2) / (n * (n * n - 1));
}

function quantiles(x: number[], qs: number[]): number[] {
  const s = [...x].sort((a, b) => a - b);
  return qs.map((q) => s[Math.round(q * (s.length - 1))]);
}

(haveSklearn ? describe : describe.skip)('IsolationForest vs scikit-learn', () => {
  const rows = dataset();
  const ours = Array.from(
    new IsolationForest({ nTrees: 300, sampleSize: 256, seed: 1 }).fit(rows).scoreMany(rows)
  );
  const theirs = sklearnScores(rows);

  it('gives the same score distribution', () => {
    const qs = [0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99];
    const a = quantiles(ours, qs);
    const b = quantiles(theirs, qs);
    a.forEach((x, i) => expect(Math.abs(x - b[i])).toBeLessThan(0.02));
    const meanAbs = ours.reduce((s, x, i) => s + Math.abs(x - theirs[i]), 0) / ours.length;
    expect(meanAbs).toBeLessThan(0.02);
  });

  it('ranks the points the same way and finds the same outliers', () => {
    expect(spearman(ours, theirs)).toBeGreaterThan(0.97);
    const top = (s: number[]) =>
      new Set(
        s
          .map((v, i) => [v, i])
          .sort((a, b) => b[0] - a[0])
          .slice(0, 100)
          .map((p) => p[1])
      );
    const a = top(ours);
    const b = top(theirs);
    const shared = [...a].filter((i) => b.has(i)).length;
    expect(shared).toBeGreaterThanOrEqual(85);
    // Most of the planted outliers (rows 1900…1999) are in both top-100 lists.
    expect([...a].filter((i) => i >= 1900 && b.has(i)).length).toBeGreaterThanOrEqual(75);
  });
});
