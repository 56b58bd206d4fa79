import * as fs from 'fs';
import * as path from 'path';
import { mulberry32 } from '../series/random';
import {
  NAB_PROFILES,
  NAB_PROFILE_NAMES,
  NabInputError,
  heldOutScore,
  nabScore,
  optimizeThreshold,
  probationaryLength,
  scaledSigmoid,
  scoreAtThreshold,
  scoreCorpus,
  scoresByThreshold,
  sweepRows,
  windowsFromLabels,
  type NabCorpusFile,
  type NabDataFile,
  type SweepRow,
} from './nab';

const standard = NAB_PROFILES.standard;
const ts = Array.from({ length: 100 }, (_, i) => 1000 + 300 * i);
/** One 10-row window, rows 40…49. */
const window: [number, number] = [ts[40], ts[49]];

function file(detections: number[], windows: Array<[number, number]> = [window]): NabDataFile {
  const scores = ts.map((_, i) => (detections.includes(i) ? 1 : 0));
  return { name: 'hand', timestamps: ts, scores, windows };
}

// Probation off for the hand-checked cases, so every row counts.
const score = (f: NabDataFile, profile = standard) => scoreAtThreshold([f], profile, 0.5, 0).score;

describe('scaledSigmoid', () => {
  it('follows 2σ(−5x) − 1 and is −1 beyond 3', () => {
    expect(scaledSigmoid(-1)).toBeCloseTo(0.986614, 6); // 2/(1+e^−5) − 1
    expect(scaledSigmoid(-0.5)).toBeCloseTo(0.848284, 6); // 2/(1+e^−2.5) − 1
    expect(scaledSigmoid(0)).toBe(0);
    expect(scaledSigmoid(1)).toBeCloseTo(-0.986614, 6);
    expect(scaledSigmoid(3.01)).toBe(-1);
  });
});

describe('NAB scoring of hand-made windows (standard profile, no probation)', () => {
  it('a detection at the window start earns the full tpWeight', () => {
    // position −(49 − 40 + 1)/10 = −1 → scaledSigmoid(−1)/scaledSigmoid(−1) = 1
    expect(score(file([40]))).toBeCloseTo(1, 12);
  });

  it('a detection at the window end earns scaledSigmoid(−0.1)/scaledSigmoid(−1)', () => {
    // position −(49 − 49 + 1)/10 = −0.1 → (2/(1+e^−0.5) − 1)/0.986614 = 0.244919/0.986614 = 0.248242
    expect(score(file([49]))).toBeCloseTo(0.248242, 6);
  });

  it('only the earliest detection of a window counts', () => {
    expect(score(file([45, 40, 49]))).toBeCloseTo(1, 12);
    // row 45: −(5)/10 = −0.5 → 0.848284/0.986614 = 0.859793
    expect(score(file([45, 49]))).toBeCloseTo(0.859793, 6);
  });

  it('a miss costs fnWeight', () => {
    expect(score(file([]))).toBe(-1);
    expect(score(file([]), NAB_PROFILES.reward_low_FN_rate)).toBe(-2);
  });

  it('a false positive before any window costs the full fpWeight', () => {
    expect(score(file([10, 40]))).toBeCloseTo(1 - 0.11, 12);
    expect(score(file([10, 40]), NAB_PROFILES.reward_low_FP_rate)).toBeCloseTo(1 - 0.22, 12);
  });

  it('a false positive after a window is weighted by its distance past the window', () => {
    // row 54: |49 − 54|/(10 − 1) = 5/9 → 2/(1+e^(25/9)) − 1 = −0.882926 → × 0.11 = −0.097122
    expect(score(file([40, 54]))).toBeCloseTo(1 - 0.097122, 6);
    // right after the window (row 50): 1/9 → 2/(1+e^(5/9)) − 1 = −0.270847 → × 0.11 = −0.029793
    expect(score(file([40, 50]))).toBeCloseTo(1 - 0.029793, 6);
  });

  it('ignores detections in the probationary period (first 15 %, at most 750 rows)', () => {
    expect(probationaryLength(100)).toBe(15);
    expect(probationaryLength(10000)).toBe(750);
    expect(scoreAtThreshold([file([5, 40])], standard, 0.5).score).toBeCloseTo(1, 12);
  });
});

describe('threshold sweep and normalisation', () => {
  it('picks the threshold with the best corpus score', () => {
    // A detection at the window start scored 0.9, a false positive at 0.8, noise at 0.1.
    const scores = ts.map((_, i) => (i === 40 ? 0.9 : i === 70 ? 0.8 : 0.1));
    const best = optimizeThreshold([{ name: 'f', timestamps: ts, scores, windows: [window] }], standard, 0);
    expect(best.threshold).toBe(0.9);
    expect(best.score).toBeCloseTo(1, 12);
    expect(best.tp).toBe(1);
    expect(best.fp).toBe(0);
  });

  it('scores the null detector 0 and the perfect detector 100 under every profile', () => {
    const windows: Array<[number, number]> = [window, [ts[70], ts[79]]];
    const nul = { name: 'f', timestamps: ts, scores: ts.map(() => 0.5), windows };
    const perfect = {
      name: 'f',
      timestamps: ts,
      scores: ts.map((_, i) => (i === 40 || i === 70 ? 1 : 0)),
      windows,
    };
    for (const r of nabScore([nul], { probationPercent: 0 })) expect(r.score).toBeCloseTo(0, 12);
    for (const r of nabScore([perfect], { probationPercent: 0 })) expect(r.score).toBeCloseTo(100, 12);
    // Two windows: null = −2·fnWeight, perfect = 2·tpWeight; one early hit and one miss is half way.
    const half = { name: 'f', timestamps: ts, scores: ts.map((_, i) => (i === 40 ? 1 : 0)), windows };
    const [std] = nabScore([half], { probationPercent: 0, profiles: ['standard'] });
    expect(std.nullRaw).toBe(-2);
    expect(std.perfectRaw).toBe(2);
    expect(std.score).toBeCloseTo(50, 12);
  });

  it('sums over files with one threshold for the corpus', () => {
    const a = {
      name: 'a',
      timestamps: ts,
      scores: ts.map((_, i) => (i === 40 ? 0.7 : 0)),
      windows: [window],
    };
    const b = {
      name: 'b',
      timestamps: ts,
      scores: ts.map((_, i) => (i === 45 ? 0.6 : i === 20 ? 0.65 : 0)),
      windows: [window],
    };
    // At 0.6 both windows are caught (1 + 0.859793) and b's FP costs 0.11.
    const best = optimizeThreshold([a, b], standard, 0);
    expect(best.threshold).toBe(0.6);
    expect(best.score).toBeCloseTo(1 + 0.859793 - 0.11, 6);
  });
});

describe('bad input', () => {
  it('says clearly what is wrong', () => {
    expect(() => nabScore([file([40], [])])).toThrow(/no labelled anomaly windows/);
    expect(() => nabScore([])).toThrow(NabInputError);
    const nan = { ...file([40]), scores: ts.map((_, i) => (i === 3 ? NaN : 0)) };
    expect(() => nabScore([nan])).toThrow(/anomaly score at row 3 is NaN/);
    expect(() => nabScore([{ ...file([40]), scores: [1, 2] }])).toThrow(
      /100 timestamps but 2 anomaly scores/
    );
    expect(() => nabScore([file([40], [[5, 6]])])).toThrow(/contains no rows/);
  });
});

describe('windowsFromLabels', () => {
  it('turns each run of 1s into one inclusive window', () => {
    expect(windowsFromLabels([1, 2, 3, 4, 5, 6], [0, 1, 1, 0, 1, 1])).toEqual([
      [2, 3],
      [5, 6],
    ]);
    expect(windowsFromLabels([1, 2], [0, 0])).toEqual([]);
  });
});

// NAB's published result files carry, per row, the score NAB's own scorer gave at NAB's tuned threshold
// (S(t)_<profile>); their per-file sums must equal ours. Runs only where the shared data is present.
const NAB_DIR = path.resolve(__dirname, '../../../../shared/data/nab-aws-cloudwatch');
const haveNab = fs.existsSync(path.join(NAB_DIR, 'reference-detectors/thresholds.json'));
(haveNab ? describe : describe.skip)('agreement with NAB on its published results', () => {
  const t = (s: string) =>
    Date.parse(
      s
        .trim()
        .replace(' ', 'T')
        .replace(/\.\d+$/, '') + 'Z'
    ) / 1000;
  // Read in beforeAll, not here: Jest runs a skipped describe's body too, and without the data it must not throw.
  let windows: Record<string, string[][]>;
  let thresholds: Record<string, Record<string, { threshold: number }>>;
  beforeAll(() => {
    windows = JSON.parse(fs.readFileSync(path.join(NAB_DIR, 'combined_windows.json'), 'utf8'));
    thresholds = JSON.parse(
      fs.readFileSync(path.join(NAB_DIR, 'reference-detectors/thresholds.json'), 'utf8')
    );
  });
  it.each(['numenta', 'randomCutForest', 'windowedGaussian', 'null'])('%s', (det) => {
    const dir = path.join(NAB_DIR, 'reference-detectors', det);
    for (const name of fs.readdirSync(dir)) {
      const lines = fs.readFileSync(path.join(dir, name), 'utf8').trim().split('\n');
      const header = lines[0].split(',');
      const rows = lines.slice(1).map((l) => l.split(','));
      const stem = name.slice(det.length + 1);
      const key = Object.keys(windows).find((k) => k.endsWith('/' + stem))!;
      const f: NabDataFile = {
        name: stem,
        timestamps: rows.map((r) => t(r[0])),
        scores: rows.map((r) => Number(r[header.indexOf('anomaly_score')])),
        windows: windows[key].map((w) => [t(w[0]), t(w[1])]),
      };
      for (const profile of ['standard', 'reward_low_FP_rate', 'reward_low_FN_rate'] as const) {
        const col = header.indexOf(`S(t)_${profile}`);
        const published = rows.reduce((s, r) => s + Number(r[col]), 0);
        const ours = scoreAtThreshold([f], NAB_PROFILES[profile], thresholds[det][profile].threshold).score;
        expect(ours).toBeCloseTo(published, 9);
      }
    }
  });
});

describe('heldOutScore (leave one file out)', () => {
  // Two files, each with window rows 40…49 and one detection at the window's first row: 0.9 in file a,
  // 0.6 in file b. One corpus threshold (0.6) catches both: raw 2 = perfect, normalised 100.
  const at = (name: string, s: number): NabDataFile => ({
    name,
    timestamps: ts,
    scores: ts.map((_, i) => (i === 40 ? s : 0)),
    windows: [window],
  });
  const files = [at('a', 0.9), at('b', 0.6)];

  it('scores each file at the threshold best on the others', () => {
    expect(nabScore(files, { profiles: ['standard'], probationPercent: 0 })[0].score).toBeCloseTo(100, 9);
    const [r] = heldOutScore(files, { profiles: ['standard'], probationPercent: 0 });
    // a at b's best threshold 0.6: detected, +1. b at a's best threshold 0.9: missed, −1. Raw 0; the null
    // detector misses both (−2); perfect 2 → 100·(0 + 2)/(2 + 2) = 50.
    expect(r.files).toEqual([
      { name: 'a', threshold: 0.6, raw: 1 },
      { name: 'b', threshold: 0.9, raw: -1 },
    ]);
    expect(r.raw).toBeCloseTo(0, 12);
    expect(r.score).toBeCloseTo(50, 9);
  });

  it('gives the null detector 0 and needs labelled windows', () => {
    const nulls = files.map((f) => ({ ...f, scores: ts.map(() => 0.5) }));
    for (const r of heldOutScore(nulls)) expect(r.score).toBeCloseTo(0, 9);
    expect(() => heldOutScore(files.map((f) => ({ ...f, windows: [] })))).toThrow(NabInputError);
    expect(() => heldOutScore([])).toThrow(NabInputError);
  });
});

describe("the sweep on typed arrays agrees with NAB's row-by-row sweep", () => {
  // NAB's calcSweepScore + calcScoreByThreshold as written (sweepRows, scoresByThreshold), against the
  // sweep every scorer here uses, on random corpora with ties, repeated timestamps and probation.
  const randomFile = (r: () => number, name: string): NabDataFile => {
    const n = 60 + Math.floor(r() * 80);
    const timestamps = Array.from({ length: n }, (_, i) => 1000 + 60 * i);
    timestamps[20] = timestamps[19]; // a repeated time, as some NAB files have
    const windows: Array<[number, number]> = [];
    for (
      let at = 25 + Math.floor(r() * 10);
      at + 12 < n && windows.length < 3;
      at += 20 + Math.floor(r() * 20)
    ) {
      const width = 1 + Math.floor(r() * 10);
      windows.push([timestamps[at], timestamps[at + width - 1]]);
    }
    const scores = timestamps.map(() => Math.round(r() * 20) / 20);
    return { name, timestamps, scores, windows };
  };
  it.each([1, 2, 3, 4, 5, 6, 7, 8])('seed %i', (seed) => {
    const r = mulberry32(seed);
    const files = Array.from({ length: 2 + (seed % 3) }, (_, k) => randomFile(r, `f${k}`));
    for (const profile of NAB_PROFILE_NAMES) {
      const cost = NAB_PROFILES[profile];
      const rows: SweepRow[] = [];
      let base = 0;
      for (const f of files) {
        const s = sweepRows(f, cost, base);
        base += s.windows;
        rows.push(...s.rows);
      }
      const reference = scoresByThreshold(rows, cost).reduce((b, x) => (x.score > b.score ? x : b));
      const fast = optimizeThreshold(files, cost);
      expect(fast.threshold).toBe(reference.threshold);
      expect(fast.score).toBeCloseTo(reference.score, 10);
      expect([fast.tp, fast.fp, fast.fn, fast.tn]).toEqual([
        reference.tp,
        reference.fp,
        reference.fn,
        reference.tn,
      ]);
      // Per file at that threshold, as NAB's scoreDataSet reads it off the file's own sweep.
      for (const f of files) {
        const own = scoresByThreshold(sweepRows(f, cost).rows, cost);
        const at = [...own].reverse().find((x) => x.threshold >= fast.threshold)!;
        expect(scoreAtThreshold([f], cost, fast.threshold).score).toBeCloseTo(at.score, 10);
      }
    }
  });
});

describe('scoreCorpus: swept, leave one category out, per category and per file', () => {
  // Probation off and the standard profile, so every figure can be worked by hand. Rows 0…99; each file
  // with a window has it on rows 40…49 (width 10).
  const at = (marks: Record<number, number>) => ts.map((_, i) => marks[i] ?? 0);
  const corpus = (aWindows: Array<[number, number]> = [window], a2Windows: Array<[number, number]> = []) =>
    [
      // a1: 0.9 at the window's first row (+1). a2: no window, 0.7 at row 10 (an FP before any window: −0.11).
      { name: 'A/a1.csv', category: 'A', timestamps: ts, scores: at({ 40: 0.9 }), windows: aWindows },
      { name: 'A/a2.csv', category: 'A', timestamps: ts, scores: at({ 10: 0.7 }), windows: a2Windows },
      // b: 0.6 half way into its window: scaledSigmoid(−0.5)/scaledSigmoid(−1) = 0.859793.
      { name: 'B/b.csv', category: 'B', timestamps: ts, scores: at({ 45: 0.6 }), windows: [window] },
      // c: 0.8 at the window's first row (+1) and 0.65 at row 70, (70 − 49)/9 = 2.333 window widths past
      // it: 0.11 · scaledSigmoid(2.333) = −0.109998.
      {
        name: 'C/c.csv',
        category: 'C',
        timestamps: ts,
        scores: at({ 40: 0.8, 70: 0.65 }),
        windows: [window],
      },
    ] as NabCorpusFile[];
  const half = 0.8597925669;
  const fp70 = -0.1099981135;
  const score = (files: NabCorpusFile[]) =>
    scoreCorpus(files, { profiles: ['standard'], probationPercent: 0 })[0];

  it('reproduces the hand-worked figures', () => {
    const r = score(corpus());
    // Swept: 1.1 → −3; 0.9 → −1; 0.8 → 1; 0.7 → 0.89; 0.65 → 0.78; 0.6 → 1 + 1 + 0.859793 − 0.11 − 0.109998
    // = 2.639794, the best (at 0 every row is an FP). Null −3 (it detects nothing), perfect 3.
    expect(r.threshold).toBe(0.6);
    expect(r.raw).toBeCloseTo(2 + half - 0.11 + fp70, 9);
    expect(r.nullRaw).toBe(-3);
    expect(r.perfectRaw).toBe(3);
    expect(r.score).toBeCloseTo((100 * (2.6397944534 + 3)) / 6, 6); // 93.9966
    // Held out: A at the best threshold of B and C (0.6): 1 − 0.11 = 0.89. B at that of A and C (0.8, where
    // A and C score 2): missed, −1. C at that of A and B (0.6): 1 − 0.109998. Sum 0.780002; null −3.
    expect(r.heldOutBy).toBe('category');
    expect(r.perFile.map((f) => [f.name, f.heldOutThreshold])).toEqual([
      ['A/a1.csv', 0.6],
      ['A/a2.csv', 0.6],
      ['B/b.csv', 0.8],
      ['C/c.csv', 0.6],
    ]);
    expect(r.perFile.map((f) => f.heldOutRaw)).toEqual(
      [1, -0.11, -1, 1 + fp70].map((x) => expect.closeTo(x, 9))
    );
    expect(r.heldOutRaw).toBeCloseTo(0.89 - 1 + 1 + fp70, 9);
    expect(r.nullHeldOutRaw).toBe(-3);
    expect(r.heldOut).toBeCloseTo((100 * (0.7800018865 + 3)) / 6, 6); // 63.0000
    // Per file at the swept threshold, with NAB's per-file counts.
    expect(r.perFile.map((f) => [f.raw, f.tp, f.fp, f.windows])).toEqual([
      [1, 1, 0, 1],
      [-0.11, 0, 1, 0],
      [expect.closeTo(half, 9), 1, 0, 1],
      [expect.closeTo(1 + fp70, 9), 1, 1, 1],
    ]);
    expect(r.perFile.reduce((s, f) => s + f.raw, 0)).toBeCloseTo(r.raw, 12);
    // Per category: A (1 window) 100·(0.89 + 1)/(1 + 1) = 94.5 both ways; B 100·(0.859793 + 1)/2 = 92.99
    // swept, 0 held out; C 100·(0.890002 + 1)/2 = 94.50 both ways.
    expect(r.perCategory).toEqual([
      { category: 'A', files: 2, windows: 1, raw: 0.89, heldOutRaw: 0.89, score: 94.5, heldOut: 94.5 },
      {
        category: 'B',
        files: 1,
        windows: 1,
        raw: expect.closeTo(half, 9),
        heldOutRaw: -1,
        score: expect.closeTo(92.98962835, 6),
        heldOut: 0,
      },
      {
        category: 'C',
        files: 1,
        windows: 1,
        raw: expect.closeTo(1 + fp70, 9),
        heldOutRaw: expect.closeTo(1 + fp70, 9),
        score: expect.closeTo(94.50009432, 6),
        heldOut: expect.closeTo(94.50009432, 6),
      },
    ]);
  });

  it("never reads the held-out category's labels to choose its threshold", () => {
    // A's labels change: a1 loses its window (its 0.9 becomes an FP) and a2 gains one on rows 5…14 around
    // its 0.7. A's files are still scored at the threshold best on B and C (0.6); B's threshold, chosen
    // on A and C, moves from 0.8 to 0.7 (A now scores 0.859793 at 0.7), so the change is felt elsewhere.
    const before = score(corpus());
    const after = score(corpus([], [[ts[5], ts[14]]]));
    const thresholds = (r: typeof before) =>
      Object.fromEntries(r.perFile.map((f) => [f.name, f.heldOutThreshold]));
    expect(thresholds(after)['A/a1.csv']).toBe(thresholds(before)['A/a1.csv']);
    expect(thresholds(after)['A/a2.csv']).toBe(thresholds(before)['A/a2.csv']);
    expect(thresholds(after)['B/b.csv']).toBe(0.7);
    expect(thresholds(before)['B/b.csv']).toBe(0.8);
  });

  it("holds out each category's files whatever their labels (random corpora)", () => {
    const r = mulberry32(11);
    for (let trial = 0; trial < 20; trial++) {
      const files: NabCorpusFile[] = ['X', 'X', 'Y', 'Z', 'Z'].map((category, k) => ({
        name: `${category}/f${k}.csv`,
        category,
        timestamps: ts,
        scores: ts.map(() => Math.round(r() * 10) / 10),
        windows: r() < 0.8 ? [[ts[30 + k], ts[38 + k]]] : [],
      }));
      const relabelled = files.map((f) =>
        f.category === 'X'
          ? { ...f, windows: [[ts[60], ts[60 + Math.floor(r() * 20)]]] as Array<[number, number]> }
          : f
      );
      const [a] = scoreCorpus(files, { profiles: ['standard'] });
      const [b] = scoreCorpus(relabelled, { profiles: ['standard'] });
      expect(b.perFile.slice(0, 2).map((f) => f.heldOutThreshold)).toEqual(
        a.perFile.slice(0, 2).map((f) => f.heldOutThreshold)
      );
    }
  });

  it('falls back to leave one file out when the corpus has one category, and says so', () => {
    const one = corpus().map((f) => ({ ...f, category: 'all' }));
    const r = score(one);
    expect(r.heldOutBy).toBe('file');
    const [lofo] = heldOutScore(one, { profiles: ['standard'], probationPercent: 0 });
    expect(r.heldOut).toBeCloseTo(lofo.score, 12);
    expect(r.perFile.map((f) => f.heldOutThreshold)).toEqual(lofo.files.map((f) => f.threshold));
    expect(r.perCategory).toHaveLength(1);
    expect(r.perCategory[0].score).toBeCloseTo(r.score, 12);
  });

  it('gives a category without windows no normalised score, only its raw one', () => {
    const files = corpus().map((f) => (f.name === 'A/a1.csv' ? { ...f, windows: [] } : f));
    const a = score(files).perCategory.find((c) => c.category === 'A')!;
    expect(a).toMatchObject({ windows: 0, score: null, heldOut: null });
    expect(a.raw).toBeLessThan(0);
  });

  it('refuses what it cannot score, saying why', () => {
    const files = corpus();
    expect(() => scoreCorpus([])).toThrow(/no data files to score/);
    expect(() => scoreCorpus([files[0], { ...files[0] }])).toThrow(/A\/a1\.csv: appears twice/);
    expect(() => scoreCorpus([{ ...files[0], category: '' }])).toThrow(/A\/a1\.csv: no category/);
    expect(() => scoreCorpus([files[1]])).toThrow(/no labelled anomaly windows/);
    expect(() => scoreCorpus([{ ...files[2], scores: [1, 2] }])).toThrow(/B\/b\.csv: 100 timestamps but 2/);
    expect(() => scoreCorpus([{ ...files[2], windows: [[ts[50], ts[40]]] }])).toThrow(
      /ends before it starts/
    );
    expect(() =>
      scoreCorpus([
        {
          ...files[2],
          windows: [
            [ts[40], ts[49]],
            [ts[45], ts[60]],
          ],
        },
      ])
    ).toThrow(/windows overlap or are out of order/);
  });
});
