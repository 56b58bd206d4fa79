/**
 * Normalised NAB scores of a corpus (the method is described in nab.ts, which re-exports this): NAB's
 * swept score (nabScore), and beside it the held-out one, each file at the threshold swept without its
 * category or itself (heldOutGroups), with per-category and per-file figures (scoreCorpus, heldOutScore).
 * The null detector goes through the same procedure for the normalisation.
 */
import {
  detectorRows,
  fileScoreAt,
  NAB_PROFILE_NAMES,
  NAB_PROFILES,
  NabInputError,
  prepareCorpus,
  sweepBest,
  type CostMatrix,
  type DetectorRows,
  type NabDataFile,
  type NabProfileName,
  type PreparedCorpus,
} from './nab-sweep';

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
