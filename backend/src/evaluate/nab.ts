/**
 * The Numenta Anomaly Benchmark scoring method (Lavin & Ahmad 2015; numenta/NAB `nab/sweeper.py`,
 * `nab/optimizer.py`, `nab/runner.py` normalisation), reimplemented from its published description.
 *
 * - Every row after the probationary period (first 15 % of a file, at most 750 rows) is scorable.
 * - A detection inside a labelled window earns the scaled sigmoid of its position in the window, divided
 *   by its value at the window's first row so the earliest detection earns exactly `tpWeight`; only the
 *   first (best) detection of a window counts. A window with no detection costs `fnWeight`.
 * - A detection outside every window costs `fpWeight` times the scaled sigmoid of its distance past the
 *   preceding window (in window widths), or the full `fpWeight` when no window precedes it.
 * - The threshold that turns scores into detections is swept over every distinct score of the whole corpus
 *   (all files together) and the best corpus score kept, per detector and profile.
 * - Normalised score = 100 · (raw − null) / (perfect − null), where null is the null detector's best raw
 *   score (a constant score) on the same files and perfect = number of windows · `tpWeight`.
 */

export type NabProfileName = 'standard' | 'reward_low_FP_rate' | 'reward_low_FN_rate';

export interface CostMatrix {
  tpWeight: number;
  fpWeight: number;
  fnWeight: number;
}

/** NAB's `config/profiles.json`. */
export const NAB_PROFILES: Readonly<Record<NabProfileName, CostMatrix>> = {
  standard: { tpWeight: 1.0, fpWeight: 0.11, fnWeight: 1.0 },
  reward_low_FP_rate: { tpWeight: 1.0, fpWeight: 0.22, fnWeight: 1.0 },
  reward_low_FN_rate: { tpWeight: 1.0, fpWeight: 0.11, fnWeight: 2.0 },
};

export const NAB_PROFILE_NAMES = Object.keys(NAB_PROFILES) as NabProfileName[];

/** NAB's runner: the first 15 % of each file is probationary. */
export const NAB_PROBATION_PERCENT = 0.15;

/** One detector's output on one data file, with that file's labelled windows. */
export interface NabDataFile {
  name: string;
  /** Row times (any unit, strictly increasing is not required but rows are taken in order). */
  timestamps: ArrayLike<number>;
  /** Anomaly score per row, in [0, 1]. */
  scores: ArrayLike<number>;
  /** Inclusive [start, end] windows, in the unit of `timestamps`, in time order. */
  windows: ReadonlyArray<readonly [number, number]>;
}

export class NabInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NabInputError';
  }
}

/**
 * NAB's scaled sigmoid: 2·σ(−5x) − 1, and −1 beyond x > 3. x = −1 is a window's first row, 0 its end,
 * positive values are distances past a window.
 */
export function scaledSigmoid(x: number): number {
  if (x > 3.0) return -1.0;
  return 2 / (1 + Math.exp(5 * x)) - 1.0;
}

const MAX_TP = scaledSigmoid(-1.0);

export function probationaryLength(rows: number, percent = NAB_PROBATION_PERCENT): number {
  return Math.min(Math.floor(percent * rows), percent * 5000);
}

/** Windows as row index ranges (first and last row inside each, inclusive). */
export function windowRows(file: NabDataFile): Array<[number, number]> {
  const ts = file.timestamps;
  const out: Array<[number, number]> = [];
  let prevEnd = -Infinity;
  for (const [start, end] of file.windows) {
    if (!(start <= end))
      throw new NabInputError(`${file.name}: window [${start}, ${end}] ends before it starts`);
    if (start <= prevEnd)
      throw new NabInputError(`${file.name}: windows overlap or are out of order at ${start}`);
    prevEnd = end;
    let first = -1;
    let last = -1;
    for (let i = 0; i < ts.length; i++) {
      if (ts[i] >= start && ts[i] <= end) {
        if (first < 0) first = i;
        last = i;
      }
    }
    if (first < 0) throw new NabInputError(`${file.name}: window [${start}, ${end}] contains no rows`);
    out.push([first, last]);
  }
  return out;
}

/** Per-row NAB contribution if that row were a detection, and the window it belongs to. */
export interface SweepRow {
  score: number;
  /** Weighted reward (inside a window) or cost (outside) of detecting at this row. */
  sweepScore: number;
  /** Global window id (≥ 0), NO_WINDOW outside every window, PROBATIONARY in the probationary period. */
  window: number;
}

export const NO_WINDOW = -1;
export const PROBATIONARY = -2;

function validateFile(file: NabDataFile): void {
  if (file.timestamps.length !== file.scores.length) {
    throw new NabInputError(
      `${file.name}: ${file.timestamps.length} timestamps but ${file.scores.length} anomaly scores`
    );
  }
  for (let i = 0; i < file.scores.length; i++) {
    const s = file.scores[i];
    if (!Number.isFinite(s)) throw new NabInputError(`${file.name}: anomaly score at row ${i} is ${s}`);
  }
}

/**
 * NAB's `calcSweepScore` for one file. `windowIdBase` makes window ids unique across a corpus; returns
 * the rows and the number of window ids used.
 */
export function sweepRows(
  file: NabDataFile,
  cost: CostMatrix,
  windowIdBase = 0,
  probationPercent = NAB_PROBATION_PERCENT
): { rows: SweepRow[]; windows: number } {
  validateFile(file);
  const n = file.scores.length;
  const wins = windowRows(file);
  const probation = probationaryLength(n, probationPercent);
  const rows: SweepRow[] = new Array(n);
  let w = 0; // next window
  let prevRight = -1;
  let prevWidth = 0;
  for (let i = 0; i < n; i++) {
    let sweepScore: number;
    let window: number;
    if (w < wins.length && i >= wins[w][0] && i <= wins[w][1]) {
      const [left, right] = wins[w];
      const width = right - left + 1;
      sweepScore = (scaledSigmoid(-(right - i + 1) / width) * cost.tpWeight) / MAX_TP;
      window = windowIdBase + w;
      if (i === right) {
        prevRight = right;
        prevWidth = width;
        w++;
      }
    } else {
      // NAB divides by (width − 1), which is 0 after a one-row window; treat that as far past it.
      const unweighted =
        prevRight < 0
          ? -1.0
          : prevWidth > 1
            ? scaledSigmoid(Math.abs(prevRight - i) / (prevWidth - 1))
            : -1.0;
      sweepScore = unweighted * cost.fpWeight;
      window = NO_WINDOW;
    }
    rows[i] = { score: file.scores[i], sweepScore, window: i >= probation ? window : PROBATIONARY };
  }
  return { rows, windows: wins.length };
}

export interface ThresholdScore {
  threshold: number;
  score: number;
  tp: number;
  tn: number;
  fp: number;
  fn: number;
}

/**
 * NAB's `calcScoreByThreshold`: the corpus score at every distinct anomaly score used as a threshold
 * (a row is a detection when its score ≥ threshold), from 1.1 (no detection) down.
 */
export function scoresByThreshold(rows: readonly SweepRow[], cost: CostMatrix): ThresholdScore[] {
  const scorable = rows.filter((r) => r.window !== PROBATIONARY);
  // Stable, like Python's sorted(): ties keep their order.
  scorable.sort((a, b) => b.score - a.score);
  const windowPart = new Map<number, number>();
  for (const r of scorable) if (r.window >= 0) windowPart.set(r.window, -cost.fnWeight);
  let windowSum = -cost.fnWeight * windowPart.size;
  let fpSum = 0;
  let tn = 0;
  let fn = 0;
  for (const r of scorable) {
    if (r.window === NO_WINDOW) tn++;
    else fn++;
  }
  let tp = 0;
  let fp = 0;
  const out: ThresholdScore[] = [];
  let cur = 1.1;
  for (const r of scorable) {
    if (r.score !== cur) {
      out.push({ threshold: cur, score: fpSum + windowSum, tp, tn, fp, fn });
      cur = r.score;
    }
    if (r.window === NO_WINDOW) {
      fp++;
      tn--;
      fpSum += r.sweepScore;
    } else {
      tp++;
      fn--;
      const before = windowPart.get(r.window)!;
      if (r.sweepScore > before) {
        windowPart.set(r.window, r.sweepScore);
        windowSum += r.sweepScore - before;
      }
    }
  }
  out.push({ threshold: cur, score: fpSum + windowSum, tp, tn, fp, fn });
  return out;
}

function corpusRows(files: readonly NabDataFile[], cost: CostMatrix, probationPercent: number) {
  const all: SweepRow[] = [];
  let windows = 0;
  for (const f of files) {
    const r = sweepRows(f, cost, windows, probationPercent);
    windows += r.windows;
    for (const row of r.rows) all.push(row);
  }
  return { rows: all, windows };
}

/** NAB's optimiser: the threshold with the best corpus score (the highest such threshold on ties). */
export function optimizeThreshold(
  files: readonly NabDataFile[],
  cost: CostMatrix,
  probationPercent = NAB_PROBATION_PERCENT
): ThresholdScore {
  const { rows } = corpusRows(files, cost, probationPercent);
  let best: ThresholdScore | undefined;
  for (const s of scoresByThreshold(rows, cost)) if (!best || s.score > best.score) best = s;
  return best!;
}

/** Raw corpus score at a fixed threshold (detection: score ≥ threshold). */
export function scoreAtThreshold(
  files: readonly NabDataFile[],
  cost: CostMatrix,
  threshold: number,
  probationPercent = NAB_PROBATION_PERCENT
): ThresholdScore {
  const { rows } = corpusRows(files, cost, probationPercent);
  const best = new Map<number, number>();
  const out: ThresholdScore = { threshold, score: 0, tp: 0, tn: 0, fp: 0, fn: 0 };
  for (const r of rows) {
    if (r.window === PROBATIONARY) continue;
    if (r.window >= 0 && !best.has(r.window)) best.set(r.window, -cost.fnWeight);
    const detected = r.score >= threshold;
    if (r.window === NO_WINDOW) {
      if (detected) {
        out.fp++;
        out.score += r.sweepScore;
      } else out.tn++;
    } else if (detected) {
      out.tp++;
      best.set(r.window, Math.max(best.get(r.window)!, r.sweepScore));
    } else out.fn++;
  }
  for (const v of best.values()) out.score += v;
  return out;
}

export interface NabResult {
  profile: NabProfileName;
  /** Normalised: null detector 0, perfect detector 100. */
  score: number;
  /** Best raw corpus score and the threshold that gives it. */
  raw: number;
  threshold: number;
  nullRaw: number;
  perfectRaw: number;
  tp: number;
  fp: number;
  fn: number;
  tn: number;
}

/**
 * What both scorings need of a corpus, checked: its probation, its window count (the perfect score) and
 * the null detector's files, which answer one constant score on every row (NAB's own null outputs 0.5).
 */
function corpus(files: readonly NabDataFile[], opts: { probationPercent?: number }) {
  if (files.length === 0) throw new NabInputError('no data files to score');
  const windowCount = files.reduce((n, f) => n + f.windows.length, 0);
  if (windowCount === 0) {
    throw new NabInputError(
      'no labelled anomaly windows in any file: the NAB score is undefined without labels'
    );
  }
  const nullFiles = files.map((f) => ({ ...f, scores: new Float64Array(f.scores.length).fill(0.5) }));
  return { probationPercent: opts.probationPercent ?? NAB_PROBATION_PERCENT, windowCount, nullFiles };
}

/** Scores one detector's outputs on a corpus under every NAB profile. */
export function nabScore(
  files: readonly NabDataFile[],
  opts: { profiles?: readonly NabProfileName[]; probationPercent?: number } = {}
): NabResult[] {
  const { probationPercent, windowCount, nullFiles } = corpus(files, opts);
  return (opts.profiles ?? NAB_PROFILE_NAMES).map((profile) => {
    const cost = NAB_PROFILES[profile];
    const best = optimizeThreshold(files, cost, probationPercent);
    const nullRaw = optimizeThreshold(nullFiles, cost, probationPercent).score;
    const perfectRaw = windowCount * cost.tpWeight;
    return {
      profile,
      score: (100 * (best.score - nullRaw)) / (perfectRaw - nullRaw),
      raw: best.score,
      threshold: best.threshold,
      nullRaw,
      perfectRaw,
      tp: best.tp,
      fp: best.fp,
      fn: best.fn,
      tn: best.tn,
    };
  });
}

/** Inclusive windows from a 0/1 label per row: each maximal run of 1s is one window. */
export function windowsFromLabels(
  timestamps: ArrayLike<number>,
  labels: ArrayLike<number>
): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  let start = -1;
  for (let i = 0; i <= labels.length; i++) {
    const on = i < labels.length && labels[i] === 1;
    if (on && start < 0) start = i;
    if (!on && start >= 0) {
      out.push([timestamps[start], timestamps[i - 1]]);
      start = -1;
    }
  }
  return out;
}

export interface HeldOutFile {
  name: string;
  /** The threshold best on every other file (NAB's optimiser, run without this file). */
  threshold: number;
  /** This file's raw score at that threshold. */
  raw: number;
}

export interface HeldOutResult {
  profile: NabProfileName;
  /** Normalised like NabResult.score (null 0, perfect 100), from the sum of the held-out file scores. */
  score: number;
  raw: number;
  files: HeldOutFile[];
}

/**
 * Leave-one-file-out NAB score: each file is scored at the threshold that is best on all the other files,
 * so no file's labels choose the threshold it is scored at. NAB's own sweep (nabScore) picks one threshold
 * on every file at once, which flatters a detector whose best threshold differs from file to file. The null
 * detector goes through the same procedure for the normalisation.
 */
export function heldOutScore(
  files: readonly NabDataFile[],
  opts: { profiles?: readonly NabProfileName[]; probationPercent?: number } = {}
): HeldOutResult[] {
  const { probationPercent, windowCount, nullFiles } = corpus(files, opts);
  const leaveOneOut = (fs: readonly NabDataFile[], cost: CostMatrix): HeldOutFile[] =>
    fs.map((f, k) => {
      const threshold = optimizeThreshold(
        fs.filter((_, j) => j !== k),
        cost,
        probationPercent
      ).threshold;
      return { name: f.name, threshold, raw: scoreAtThreshold([f], cost, threshold, probationPercent).score };
    });
  return (opts.profiles ?? NAB_PROFILE_NAMES).map((profile) => {
    const cost = NAB_PROFILES[profile];
    const perFile = leaveOneOut(files, cost);
    const raw = perFile.reduce((s, f) => s + f.raw, 0);
    const nullRaw = leaveOneOut(nullFiles, cost).reduce((s, f) => s + f.raw, 0);
    const perfectRaw = windowCount * cost.tpWeight;
    return { profile, score: (100 * (raw - nullRaw)) / (perfectRaw - nullRaw), raw, files: perFile };
  });
}
