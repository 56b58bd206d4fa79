/**
 * The Numenta Anomaly Benchmark scoring method (Lavin & Ahmad 2015; numenta/NAB `nab/sweeper.py`,
 * `nab/optimizer.py`, `nab/runner.py` normalisation), reimplemented from its published description.
 *
 * - Every row after the probationary period (first 15 % of a file, at most 750 rows) is scorable. Rows
 *   are taken in file order and counted by position, as NAB does (its files have repeated timestamps).
 * - A detection inside a labelled window earns the scaled sigmoid of its position in the window, divided
 *   by its value at the window's first row so the earliest detection earns exactly `tpWeight`; only the
 *   first (best) detection of a window counts. A window with no detection costs `fnWeight`.
 * - A detection outside every window costs `fpWeight` times the scaled sigmoid of its distance past the
 *   preceding window (in window widths), or the full `fpWeight` when no window precedes it.
 * - The threshold that turns scores into detections is swept over every distinct score of the whole corpus
 *   (all files together) and the best corpus score kept, per detector and profile.
 * - Normalised score = 100 · (raw − null) / (perfect − null), where null is the null detector's best raw
 *   score (a constant score) on the same files and perfect = number of windows · `tpWeight`.
 *
 * Beside NAB's swept score, a held-out one: each file scored at the threshold swept on the files outside
 * its category (scoreCorpus), or outside itself (heldOutScore), so no file's labels pick its threshold.
 * The labels are laid out once per corpus and each detector's rows sorted once; a sweep is then one pass.
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
 * NAB's `calcScoreByThreshold`, written row by row as NAB writes it: the corpus score at every distinct
 * anomaly score used as a threshold (a row is a detection when its score ≥ threshold), from 1.1 (no
 * detection) down. The scorers below compute the same figures on typed arrays laid out once per corpus
 * (prepareCorpus, sweepBest); this stays as the plain reference their test compares them with.
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

/**
 * A corpus's labels, laid out once for every detector and profile: per row its window id (or NO_WINDOW,
 * PROBATIONARY) and its unweighted sweep score (inside a window the scaled sigmoid over its value at the
 * window's first row, to be weighted by tpWeight; outside, the FP sigmoid, to be weighted by fpWeight).
 * Files are concatenated in order; file f's rows are fileStart[f] … fileStart[f + 1] − 1 and its windows
 * windowStart[f] … windowStart[f + 1] − 1.
 */
export interface PreparedCorpus {
  names: string[];
  categories: string[];
  rows: number;
  fileStart: Int32Array;
  windowStart: Int32Array;
  rowWindow: Int32Array;
  rowSweep: Float64Array;
  /** Per window, 1 when some row of it is past the probationary period (NAB scores only those). */
  windowScorable: Uint8Array;
}

/** Validates a corpus (names unique, scores finite, windows inside their files) and lays out its labels. */
export function prepareCorpus(
  files: ReadonlyArray<NabDataFile & { category?: string }>,
  probationPercent = NAB_PROBATION_PERCENT
): PreparedCorpus {
  if (files.length === 0) throw new NabInputError('no data files to score');
  const seen = new Set<string>();
  const fileStart = new Int32Array(files.length + 1);
  const windowStart = new Int32Array(files.length + 1);
  const wins = files.map((f, k) => {
    if (seen.has(f.name)) throw new NabInputError(`${f.name}: appears twice in the corpus`);
    seen.add(f.name);
    validateFile(f);
    fileStart[k + 1] = fileStart[k] + f.scores.length;
    const w = windowRows(f);
    windowStart[k + 1] = windowStart[k] + w.length;
    return w;
  });
  const rows = fileStart[files.length];
  const rowWindow = new Int32Array(rows);
  const rowSweep = new Float64Array(rows);
  const windowScorable = new Uint8Array(windowStart[files.length]);
  files.forEach((f, k) => {
    const n = f.scores.length;
    const base = fileStart[k];
    const probation = probationaryLength(n, probationPercent);
    let w = 0;
    let prevRight = -1;
    let prevWidth = 0;
    for (let i = 0; i < n; i++) {
      const win = wins[k];
      let window = NO_WINDOW;
      if (w < win.length && i >= win[w][0] && i <= win[w][1]) {
        const [left, right] = win[w];
        const width = right - left + 1;
        rowSweep[base + i] = scaledSigmoid(-(right - i + 1) / width) / MAX_TP;
        window = windowStart[k] + w;
        if (i >= probation) windowScorable[window] = 1;
        if (i === right) {
          prevRight = right;
          prevWidth = width;
          w++;
        }
      } else {
        // NAB divides by (width − 1), which is 0 after a one-row window; treat that as far past it.
        rowSweep[base + i] =
          prevRight >= 0 && prevWidth > 1 ? scaledSigmoid(Math.abs(prevRight - i) / (prevWidth - 1)) : -1.0;
      }
      rowWindow[base + i] = i >= probation ? window : PROBATIONARY;
    }
  });
  return {
    names: files.map((f) => f.name),
    categories: files.map((f) => f.category ?? ''),
    rows,
    fileStart,
    windowStart,
    rowWindow,
    rowSweep,
    windowScorable,
  };
}

/**
 * One detector's scores on a prepared corpus, with its scorable rows sorted once, highest score first,
 * and what a sweep reads of each laid out in that order (so a sweep reads memory front to back).
 */
export interface DetectorRows {
  /** Per row, in file order. */
  scores: Float64Array;
  /** Scorable rows by descending score (ties by row: their order changes no figure). */
  order: Int32Array;
  /** Per sorted row: its score, window, unweighted sweep score and file. */
  sortedScore: Float64Array;
  sortedWindow: Int32Array;
  sortedSweep: Float64Array;
  sortedFile: Int32Array;
  /** Per file, its scorable rows inside windows and outside them (a sweep's starting fn and tn). */
  windowRowCount: Int32Array;
  otherRowCount: Int32Array;
}

/**
 * `rows` (ascending) ordered by descending score, ties by row: the distinct scores sorted natively, then
 * a counting sort by each row's rank among them (several times quicker than a comparator sort).
 */
function sortByScoreDescending(scores: Float64Array, rows: Int32Array): Int32Array {
  const m = rows.length;
  const values = new Float64Array(m);
  for (let k = 0; k < m; k++) values[k] = scores[rows[k]];
  const distinct = values.slice().sort();
  let u = 0;
  for (let k = 0; k < m; k++) if (u === 0 || distinct[k] !== distinct[u - 1]) distinct[u++] = distinct[k];
  const rank = new Int32Array(m);
  const start = new Int32Array(u + 1);
  for (let k = 0; k < m; k++) {
    let lo = 0;
    let hi = u - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (distinct[mid] < values[k]) lo = mid + 1;
      else hi = mid;
    }
    rank[k] = u - 1 - lo;
    start[rank[k] + 1]++;
  }
  for (let r = 0; r < u; r++) start[r + 1] += start[r];
  const out = new Int32Array(m);
  for (let k = 0; k < m; k++) out[start[rank[k]]++] = rows[k];
  return out;
}

/** A detector's scores for every row of a prepared corpus, checked, with per-file counts of scorable rows. */
function rowScores(c: PreparedCorpus, files: ReadonlyArray<{ scores: ArrayLike<number> }>) {
  const nFiles = c.names.length;
  if (files.length !== nFiles)
    throw new NabInputError(`${files.length} score files for a corpus of ${nFiles}`);
  const scores = new Float64Array(c.rows);
  const fileOfRow = new Int32Array(c.rows);
  const windowRowCount = new Int32Array(nFiles);
  const otherRowCount = new Int32Array(nFiles);
  let scorable = 0;
  files.forEach((f, k) => {
    const base = c.fileStart[k];
    const n = c.fileStart[k + 1] - base;
    if (f.scores.length !== n)
      throw new NabInputError(`${c.names[k]}: ${n} rows but ${f.scores.length} anomaly scores`);
    for (let i = 0; i < n; i++) {
      const s = f.scores[i];
      if (!Number.isFinite(s)) throw new NabInputError(`${c.names[k]}: anomaly score at row ${i} is ${s}`);
      scores[base + i] = s;
      fileOfRow[base + i] = k;
      const w = c.rowWindow[base + i];
      if (w === PROBATIONARY) continue;
      scorable++;
      if (w === NO_WINDOW) otherRowCount[k]++;
      else windowRowCount[k]++;
    }
  });
  return { scores, fileOfRow, windowRowCount, otherRowCount, scorable };
}

export function detectorRows(
  c: PreparedCorpus,
  files: ReadonlyArray<{ scores: ArrayLike<number> }>
): DetectorRows {
  const { scores, fileOfRow, windowRowCount, otherRowCount, scorable } = rowScores(c, files);
  const rows = new Int32Array(scorable);
  let m = 0;
  for (let i = 0; i < c.rows; i++) if (c.rowWindow[i] !== PROBATIONARY) rows[m++] = i;
  const order = sortByScoreDescending(scores, rows);
  const sortedScore = new Float64Array(m);
  const sortedWindow = new Int32Array(m);
  const sortedSweep = new Float64Array(m);
  const sortedFile = new Int32Array(m);
  for (let k = 0; k < m; k++) {
    const r = order[k];
    sortedScore[k] = scores[r];
    sortedWindow[k] = c.rowWindow[r];
    sortedSweep[k] = c.rowSweep[r];
    sortedFile[k] = fileOfRow[r];
  }
  return { scores, order, sortedScore, sortedWindow, sortedSweep, sortedFile, windowRowCount, otherRowCount };
}

/**
 * NAB's sweep and optimiser in one pass over the sorted rows: the threshold with the best corpus score
 * (the highest such threshold on ties, as NAB's stable sort keeps it), over the files not `excluded`.
 * The excluded files' rows and windows are never looked at, so their labels cannot move the threshold.
 */
export function sweepBest(
  c: PreparedCorpus,
  d: DetectorRows,
  cost: CostMatrix,
  excluded?: Uint8Array
): ThresholdScore {
  const part = new Float64Array(c.windowScorable.length);
  let windowSum = 0;
  let tn = 0;
  let fn = 0;
  for (let f = 0; f + 1 < c.windowStart.length; f++) {
    if (excluded && excluded[f]) continue;
    tn += d.otherRowCount[f];
    fn += d.windowRowCount[f];
    for (let w = c.windowStart[f]; w < c.windowStart[f + 1]; w++) {
      if (!c.windowScorable[w]) continue;
      part[w] = -cost.fnWeight;
      windowSum -= cost.fnWeight;
    }
  }
  const { sortedScore, sortedWindow, sortedSweep, sortedFile } = d;
  const { tpWeight, fpWeight } = cost;
  let tp = 0;
  let fp = 0;
  let fpSum = 0;
  let cur = 1.1;
  let best: ThresholdScore = { threshold: cur, score: windowSum, tp, tn, fp, fn };
  for (let k = 0; k < sortedScore.length; k++) {
    if (excluded && excluded[sortedFile[k]]) continue;
    const s = sortedScore[k];
    if (s !== cur) {
      const score = fpSum + windowSum;
      if (score > best.score) best = { threshold: cur, score, tp, tn, fp, fn };
      cur = s;
    }
    const w = sortedWindow[k];
    if (w === NO_WINDOW) {
      fp++;
      tn--;
      fpSum += sortedSweep[k] * fpWeight;
    } else {
      tp++;
      fn--;
      const v = sortedSweep[k] * tpWeight;
      if (v > part[w]) {
        windowSum += v - part[w];
        part[w] = v;
      }
    }
  }
  const score = fpSum + windowSum;
  if (score > best.score) best = { threshold: cur, score, tp, tn, fp, fn };
  return best;
}

/** One file's raw score at a fixed threshold (detection: score ≥ threshold), as NAB's scoreDataSet gives it. */
export function fileScoreAt(
  c: PreparedCorpus,
  scores: Float64Array,
  cost: CostMatrix,
  threshold: number,
  f: number
): ThresholdScore {
  const out: ThresholdScore = { threshold, score: 0, tp: 0, tn: 0, fp: 0, fn: 0 };
  const w0 = c.windowStart[f];
  const part = new Float64Array(c.windowStart[f + 1] - w0).fill(-cost.fnWeight);
  for (let r = c.fileStart[f]; r < c.fileStart[f + 1]; r++) {
    const w = c.rowWindow[r];
    if (w === PROBATIONARY) continue;
    const detected = scores[r] >= threshold;
    if (w === NO_WINDOW) {
      if (detected) {
        out.fp++;
        out.score += c.rowSweep[r] * cost.fpWeight;
      } else out.tn++;
    } else if (detected) {
      out.tp++;
      part[w - w0] = Math.max(part[w - w0], c.rowSweep[r] * cost.tpWeight);
    } else out.fn++;
  }
  for (let w = 0; w < part.length; w++) if (c.windowScorable[w0 + w]) out.score += part[w];
  return out;
}

/** What each held-out group is: a category (NAB's own grouping of its files) or a single file. */
export type HeldOutUnit = 'category' | 'file';

/**
 * Per file, the threshold best on every file outside its group and its raw score there. A group's
 * threshold is swept with the group's files excluded, so no file's labels pick its own threshold.
 */
function heldOutFiles(
  c: PreparedCorpus,
  d: DetectorRows,
  cost: CostMatrix,
  groups: readonly number[][]
): Array<{ threshold: number; raw: number }> {
  const out = new Array<{ threshold: number; raw: number }>(c.names.length);
  const excluded = new Uint8Array(c.names.length);
  for (const g of groups) {
    for (const f of g) excluded[f] = 1;
    const { threshold } = sweepBest(c, d, cost, excluded);
    for (const f of g) {
      excluded[f] = 0;
      out[f] = { threshold, raw: fileScoreAt(c, d.scores, cost, threshold, f).score };
    }
  }
  return out;
}

/** The groups held out in turn: one per category when there are two or more, else one per file. */
export function heldOutGroups(
  c: PreparedCorpus,
  by: HeldOutUnit | 'auto' = 'auto'
): { unit: HeldOutUnit; groups: number[][] } {
  const cats = [...new Set(c.categories)];
  const unit: HeldOutUnit = by === 'auto' ? (cats.length >= 2 ? 'category' : 'file') : by;
  if (unit === 'file') return { unit, groups: c.names.map((_, f) => [f]) };
  return { unit, groups: cats.map((cat) => c.categories.flatMap((x, f) => (x === cat ? [f] : []))) };
}

/** A data file of a corpus with NAB's categories, e.g. name `realTweets/Twitter_volume_AAPL.csv`. */
export interface NabCorpusFile extends NabDataFile {
  category: string;
}

export interface NabFileScore {
  name: string;
  category: string;
  windows: number;
  /** Raw score at the corpus threshold (NAB's per-file `Score`), with its detected rows. */
  raw: number;
  tp: number;
  fp: number;
  /** The threshold best on every file outside this file's held-out group, and the raw score there. */
  heldOutThreshold: number;
  heldOutRaw: number;
}

export interface NabCategoryScore {
  category: string;
  files: number;
  windows: number;
  /** Sums of the category's per-file raw scores, swept and held out. */
  raw: number;
  heldOutRaw: number;
  /**
   * The category's files normalised like the corpus (the null detector's raw score on them 0, a
   * detection at every window's start 100); null for a category without windows, where only `raw` (the
   * cost of its false positives) means anything.
   */
  score: number | null;
  heldOut: number | null;
}

export interface NabCorpusScore {
  profile: NabProfileName;
  /** NAB's score: one threshold swept over the whole corpus, normalised null 0, perfect 100. */
  score: number;
  /** Each file at the threshold chosen without its group (`heldOutBy`), normalised the same way. */
  heldOut: number;
  heldOutBy: HeldOutUnit;
  raw: number;
  threshold: number;
  tp: number;
  fp: number;
  fn: number;
  tn: number;
  heldOutRaw: number;
  nullRaw: number;
  nullHeldOutRaw: number;
  perfectRaw: number;
  perCategory: NabCategoryScore[];
  perFile: NabFileScore[];
}

export interface ScoreCorpusOptions {
  profiles?: readonly NabProfileName[];
  probationPercent?: number;
  /** 'auto' (default): by category when the corpus has two or more, else by file. */
  heldOutBy?: HeldOutUnit | 'auto';
}

const noWindows = () =>
  new NabInputError('no labelled anomaly windows in any file: the NAB score is undefined without labels');

/** NAB's null detector: one constant score on every row (its own outputs 0.5). */
function nullRows(c: PreparedCorpus): DetectorRows {
  const files = c.names.map((_, f) => ({
    scores: new Float64Array(c.fileStart[f + 1] - c.fileStart[f]).fill(0.5),
  }));
  return detectorRows(c, files);
}

const normalise = (raw: number, nullRaw: number, perfect: number) =>
  (100 * (raw - nullRaw)) / (perfect - nullRaw);

/**
 * NAB-scores one detector's per-file anomaly scores on a corpus, under each profile: NAB's swept score
 * (one threshold for every file) and the held-out score (each file at the threshold best on the files
 * outside its category, or outside itself when the corpus has one category), each broken down per
 * category and per file. The null detector (a constant score, as NAB's own outputs 0.5) goes through the
 * same procedure for the normalisation. Takes any score arrays, so a candidate detector can be scored
 * without the CLI.
 */
export function scoreCorpus(
  files: readonly NabCorpusFile[],
  opts: ScoreCorpusOptions = {}
): NabCorpusScore[] {
  for (const f of files)
    if (typeof f.category !== 'string' || f.category === '')
      throw new NabInputError(`${f.name}: no category`);
  return scorePrepared(prepareCorpus(files, opts.probationPercent), files, opts);
}

function scorePrepared(
  c: PreparedCorpus,
  files: ReadonlyArray<{ scores: ArrayLike<number> }>,
  opts: ScoreCorpusOptions
): NabCorpusScore[] {
  const windowCount = c.windowScorable.length;
  if (windowCount === 0) throw noWindows();
  const d = detectorRows(c, files);
  const nul = nullRows(c);
  const { unit, groups } = heldOutGroups(c, opts.heldOutBy);
  const nFiles = c.names.length;
  const windowsOf = (f: number) => c.windowStart[f + 1] - c.windowStart[f];
  return (opts.profiles ?? NAB_PROFILE_NAMES).map((profile) => {
    const cost = NAB_PROFILES[profile];
    const best = sweepBest(c, d, cost, undefined);
    const nullBest = sweepBest(c, nul, cost, undefined);
    const held = heldOutFiles(c, d, cost, groups);
    const nullHeld = heldOutFiles(c, nul, cost, groups);
    const perfectRaw = windowCount * cost.tpWeight;
    const perFile: NabFileScore[] = [];
    const nullPerFile: number[] = [];
    for (let f = 0; f < nFiles; f++) {
      const at = fileScoreAt(c, d.scores, cost, best.threshold, f);
      nullPerFile.push(fileScoreAt(c, nul.scores, cost, nullBest.threshold, f).score);
      perFile.push({
        name: c.names[f],
        category: c.categories[f],
        windows: windowsOf(f),
        raw: at.score,
        tp: at.tp,
        fp: at.fp,
        heldOutThreshold: held[f].threshold,
        heldOutRaw: held[f].raw,
      });
    }
    const perCategory: NabCategoryScore[] = [...new Set(c.categories)].map((category) => {
      const fs = perFile.flatMap((p, f) => (p.category === category ? [f] : []));
      const sum = (x: (f: number) => number) => fs.reduce((s, f) => s + x(f), 0);
      const windows = sum(windowsOf);
      const raw = sum((f) => perFile[f].raw);
      const heldOutRaw = sum((f) => perFile[f].heldOutRaw);
      const perfect = windows * cost.tpWeight;
      return {
        category,
        files: fs.length,
        windows,
        raw,
        heldOutRaw,
        score:
          windows > 0
            ? normalise(
                raw,
                sum((f) => nullPerFile[f]),
                perfect
              )
            : null,
        heldOut:
          windows > 0
            ? normalise(
                heldOutRaw,
                sum((f) => nullHeld[f].raw),
                perfect
              )
            : null,
      };
    });
    const heldOutRaw = held.reduce((s, h) => s + h.raw, 0);
    const nullHeldOutRaw = nullHeld.reduce((s, h) => s + h.raw, 0);
    return {
      profile,
      score: normalise(best.score, nullBest.score, perfectRaw),
      heldOut: normalise(heldOutRaw, nullHeldOutRaw, perfectRaw),
      heldOutBy: unit,
      raw: best.score,
      threshold: best.threshold,
      tp: best.tp,
      fp: best.fp,
      fn: best.fn,
      tn: best.tn,
      heldOutRaw,
      nullRaw: nullBest.score,
      nullHeldOutRaw,
      perfectRaw,
      perCategory,
      perFile,
    };
  });
}

/** NAB's optimiser: the threshold with the best corpus score (the highest such threshold on ties). */
export function optimizeThreshold(
  files: readonly NabDataFile[],
  cost: CostMatrix,
  probationPercent = NAB_PROBATION_PERCENT
): ThresholdScore {
  if (files.length === 0) return { threshold: 1.1, score: 0, tp: 0, tn: 0, fp: 0, fn: 0 };
  const c = prepareCorpus(files, probationPercent);
  return sweepBest(c, detectorRows(c, files), cost);
}

/** Raw corpus score at a fixed threshold (detection: score ≥ threshold). */
export function scoreAtThreshold(
  files: readonly NabDataFile[],
  cost: CostMatrix,
  threshold: number,
  probationPercent = NAB_PROBATION_PERCENT
): ThresholdScore {
  const out: ThresholdScore = { threshold, score: 0, tp: 0, tn: 0, fp: 0, fn: 0 };
  if (files.length === 0) return out;
  const c = prepareCorpus(files, probationPercent);
  const { scores } = rowScores(c, files);
  for (let f = 0; f < files.length; f++) {
    const s = fileScoreAt(c, scores, cost, threshold, f);
    out.score += s.score;
    out.tp += s.tp;
    out.tn += s.tn;
    out.fp += s.fp;
    out.fn += s.fn;
  }
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

/** Scores one detector's outputs on a corpus under every NAB profile (one threshold swept over all files). */
export function nabScore(
  files: readonly NabDataFile[],
  opts: { profiles?: readonly NabProfileName[]; probationPercent?: number } = {}
): NabResult[] {
  const c = prepareCorpus(files, opts.probationPercent);
  if (c.windowScorable.length === 0) throw noWindows();
  const d = detectorRows(c, files);
  const nul = nullRows(c);
  return (opts.profiles ?? NAB_PROFILE_NAMES).map((profile) => {
    const cost = NAB_PROFILES[profile];
    const best = sweepBest(c, d, cost, undefined);
    const nullRaw = sweepBest(c, nul, cost, undefined).score;
    const perfectRaw = c.windowScorable.length * cost.tpWeight;
    const { tp, fp, fn, tn } = best;
    const score = normalise(best.score, nullRaw, perfectRaw);
    return {
      profile,
      score,
      raw: best.score,
      threshold: best.threshold,
      nullRaw,
      perfectRaw,
      tp,
      fp,
      fn,
      tn,
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
 * detector goes through the same procedure for the normalisation. (scoreCorpus holds out whole categories.)
 */
export function heldOutScore(
  files: readonly NabDataFile[],
  opts: { profiles?: readonly NabProfileName[]; probationPercent?: number } = {}
): HeldOutResult[] {
  const c = prepareCorpus(files, opts.probationPercent);
  return scorePrepared(c, files, { ...opts, heldOutBy: 'file' }).map((r) => ({
    profile: r.profile,
    score: r.heldOut,
    raw: r.heldOutRaw,
    files: r.perFile.map((f) => ({ name: f.name, threshold: f.heldOutThreshold, raw: f.heldOutRaw })),
  }));
}
