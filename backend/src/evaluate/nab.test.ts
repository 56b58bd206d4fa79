import * as fs from 'fs';
import * as path from 'path';
import {
  NAB_PROFILES,
  NabInputError,
  heldOutScore,
  nabScore,
  optimizeThreshold,
  probationaryLength,
  scaledSigmoid,
  scoreAtThreshold,
  windowsFromLabels,
  type NabDataFile,
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
