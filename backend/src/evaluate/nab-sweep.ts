/**
 * NAB's scoring rules and its threshold sweep (the method is described in nab.ts, which re-exports this):
 * the profiles, windows as rows, NAB's per-row sweep scores (sweepRows, and scoresByThreshold as NAB writes
 * it, the reference), a corpus's labels laid out once (prepareCorpus), a detector's rows sorted once
 * (detectorRows), the one-pass sweep (sweepBest) and the scores at a fixed threshold (fileScoreAt,
 * scoreAtThreshold).
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
