/**
 * The anomaly detector: streaming features → Isolation Forest → score per point, and the threshold
 * policy that turns scores into anomalies. Pure; the adapter in index.ts loads and saves it.
 */
import { IsolationForest, type IsolationForestJson } from './isolation-forest';
import {
  computeFeatures,
  DEFAULT_FEATURE_CONFIG,
  FeatureError,
  minimumPoints,
  validateFeatureConfig,
  type FeatureConfig,
} from './features';
import { mulberry32 } from '../series/random';
import { trailingRange } from '../series/window';
import { mixSeasonalInto, seasonalLookback, validateSeasonal, type SeasonalNovelty } from './seasonal';

/**
 * How scores become anomalies: `contamination` takes the (1 − c) quantile of the training scores;
 * `fixed` uses a given value (e.g. the threshold NAB's sweep found best on a calibration set).
 */
export type ThresholdPolicy =
  { kind: 'contamination'; contamination: number } | { kind: 'fixed'; threshold: number };

export interface DetectorOptions {
  features?: FeatureConfig;
  nTrees?: number;
  sampleSize?: number;
  seed?: number;
  threshold?: ThresholdPolicy;
  /** Most feature rows kept for fitting (drawn with the seed); the forest only sees ψ per tree anyway. */
  maxTrainingRows?: number;
  /** See AnomalyDetector.onsetSeconds; 0 turns it off. */
  onsetSeconds?: number;
  /** See AnomalyDetector.breakout; null turns it off. Default DEFAULT_BREAKOUT. */
  breakout?: BreakoutRule | null;
  /** See AnomalyDetector.maxGapSeconds; default 0 (no bridging). */
  maxGapSeconds?: number;
  /** See AnomalyDetector.seasonal; default none. */
  seasonal?: SeasonalNovelty;
}

/**
 * A value beyond the range its series spanned over the past `lookbackSeconds`, by more than `tolerance`
 * times that range, scores 1 whatever the forest says. This is the "spatial anomaly" rule of HTM's NAB
 * detector (numenta/NAB `nab/detectors/numenta/numenta_detector.py`, SPATIAL_TOLERANCE = 0.05), which
 * looks back over the whole stream; here the look-back is bounded, so a score still depends on a bounded
 * past only. The forest sees each point through unit-free, window-relative features and learnt from
 * cluster traces where an excursion of a few spreads is common; a new weekly high is news all the same.
 */
export interface BreakoutRule {
  tolerance: number;
  lookbackSeconds: number;
  /**
   * The margin is at least this many standard deviations of the series' step-to-step changes over the
   * same look-back: a series that drifts to a new high by less than one ordinary step is not breaking out
   * (a slow trend would otherwise fire at every new high). Absent or 0: the tolerance alone.
   */
  noiseMargin?: number;
}

/** HTM's tolerance; a week of look-back, the longest regular cycle of a workload. */
export const DEFAULT_BREAKOUT: Readonly<BreakoutRule> = { tolerance: 0.05, lookbackSeconds: 7 * 86400 };

/** Scores that are not an onset are multiplied by this. */
export const ONSET_DAMPING = 0.8;
export const DEFAULT_ONSET_SECONDS = 12 * 3600;

export interface AnomalyDetector {
  features: FeatureConfig;
  forest: IsolationForest;
  threshold: number;
  thresholdPolicy: ThresholdPolicy;
  /**
   * A score keeps its full value only when it tops every score of the previous `onsetSeconds`; later
   * points of the same episode are damped. One page per incident, not one per point: a sustained
   * anomaly is news when it starts.
   */
  onsetSeconds: number;
  /** Applied to the forest's scores before the onset damping; absent in detectors saved before it existed. */
  breakout?: BreakoutRule;
  /**
   * Holes in a series of up to this many seconds are bridged by interpolation before scoring
   * (anomaly/gaps.ts); 0 scores each resampled segment on its own, as detectors saved before it did.
   */
  maxGapSeconds: number;
  /**
   * The per-series half of the score: the forest's raw score is mixed with the series' seasonal novelty
   * (seasonal.ts) before breakouts; absent, the raw score goes on alone (detectors saved before it).
   */
  seasonal?: SeasonalNovelty;
}

export interface AnomalyDetectorJson {
  features: FeatureConfig;
  threshold: number;
  thresholdPolicy: ThresholdPolicy;
  onsetSeconds: number;
  breakout?: BreakoutRule;
  maxGapSeconds?: number;
  seasonal?: SeasonalNovelty;
  forest: IsolationForestJson;
}

/** About one flagged point per series every 3½ days at a 5-minute step: an alert budget a pager can bear. */
export const DEFAULT_CONTAMINATION = 0.001;

/** The q-quantile (linear interpolation between order statistics). */
export function quantile(values: ArrayLike<number>, q: number): number {
  const sorted = Float64Array.from(values).sort();
  if (sorted.length === 0) throw new RangeError('quantile of no values');
  const pos = Math.min(Math.max(q, 0), 1) * (sorted.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

function isConstant(values: ArrayLike<number>): boolean {
  for (let i = 1; i < values.length; i++) if (values[i] !== values[0]) return false;
  return true;
}

/**
 * Fits one forest on the features of every training series (each a run of evenly spaced values).
 * Constant series and series shorter than the feature window are skipped and reported; when none is
 * usable it throws a FeatureError saying why.
 */
export function fitDetector(
  series: ReadonlyArray<{
    name: string;
    step: number;
    values: ArrayLike<number>;
    residuals?: ArrayLike<number>;
  }>,
  opts: DetectorOptions = {}
): {
  detector: AnomalyDetector;
  used: string[];
  skipped: Array<{ name: string; reason: string }>;
  rows: number;
} {
  const features = opts.features ?? DEFAULT_FEATURE_CONFIG;
  validateFeatureConfig(features);
  const seed = opts.seed ?? 42;
  const rows: Float64Array[] = [];
  const used: Array<{ step: number; values: ArrayLike<number>; residuals?: ArrayLike<number> }> = [];
  const usedNames: string[] = [];
  const skipped: Array<{ name: string; reason: string }> = [];
  for (const s of series) {
    if (s.values.length < minimumPoints(features, s.step)) {
      skipped.push({
        name: s.name,
        reason: `${s.values.length} points < ${minimumPoints(features, s.step)}`,
      });
      continue;
    }
    if (isConstant(s.values)) {
      skipped.push({ name: s.name, reason: 'constant series' });
      continue;
    }
    const f = computeFeatures(s.values, s.step, features, s.residuals);
    for (const r of f.rows) rows.push(r);
    used.push(s);
    usedNames.push(s.name);
  }
  if (rows.length < 2) {
    const why = skipped.length ? skipped.map((s) => `${s.name}: ${s.reason}`).join('; ') : 'no series given';
    const reason =
      skipped.length && skipped.every((s) => s.reason === 'constant series') ? 'constant' : 'too_short';
    throw new FeatureError(reason, `nothing to fit the anomaly detector on (${why})`);
  }
  const maxRows = opts.maxTrainingRows ?? 200_000;
  const pool = rows.length > maxRows ? sampleRows(rows, maxRows, seed ^ 0x9e3779b9) : rows;
  const forest = new IsolationForest({
    nTrees: opts.nTrees ?? 100,
    sampleSize: opts.sampleSize ?? 256,
    seed,
  }).fit(pool);
  const policy = opts.threshold ?? { kind: 'contamination', contamination: DEFAULT_CONTAMINATION };
  const detector: AnomalyDetector = {
    features,
    forest,
    threshold: policy.kind === 'fixed' ? policy.threshold : NaN,
    thresholdPolicy: policy,
    onsetSeconds: opts.onsetSeconds ?? DEFAULT_ONSET_SECONDS,
    maxGapSeconds: opts.maxGapSeconds ?? 0,
    ...(opts.seasonal ? { seasonal: { ...opts.seasonal } } : {}),
  };
  const breakout = opts.breakout === undefined ? DEFAULT_BREAKOUT : opts.breakout;
  if (breakout) {
    validateBreakout(breakout);
    detector.breakout = { ...breakout };
  }
  if (policy.kind === 'contamination') {
    // The threshold applies to the scores as served (breakouts, onset damping), so take it from those.
    const served: number[] = [];
    for (const s of used)
      for (const x of scoreValues(detector, s.values, s.step, s.residuals)) if (x === x) served.push(x);
    detector.threshold = quantile(served, 1 - policy.contamination);
  }
  return { detector, used: usedNames, skipped, rows: rows.length };
}

function sampleRows<T>(rows: T[], k: number, seed: number): T[] {
  // Seeded pick: shuffle indices with the forest's generator, keep the first k.
  const rand = mulberry32(seed);
  const idx = Array.from(rows.keys());
  for (let i = 0; i < k; i++) {
    const j = i + Math.floor(rand() * (idx.length - i));
    [idx[i], idx[j]] = [idx[j], idx[i]];
  }
  return idx.slice(0, k).map((i) => rows[i]);
}

/**
 * Score per point (NaN where the point lacks the past its features need). Each score depends only on
 * the point and the points before it.
 */
export function scoreValues(
  detector: AnomalyDetector,
  values: ArrayLike<number>,
  step: number,
  residuals?: ArrayLike<number>
): Float64Array {
  return servedScores(detector, values, rawScores(detector, values, step, residuals), step);
}

/**
 * The scores served from the raw scores of `values` (rawScores: the forest's, mixed with the seasonal
 * novelty): breakouts marked, then onsets damped. The one place a raw score becomes a served one.
 */
export function servedScores(
  detector: AnomalyDetector,
  values: ArrayLike<number>,
  raw: Float64Array,
  step: number
): Float64Array {
  const marked = detector.breakout ? markBreakouts(values, raw, step, detector.breakout) : raw;
  return dampOnsets(detector, marked, step);
}

/**
 * Seconds of past a served score reads beyond its features': the longer of the breakout rule's look-back
 * and the seasonal novelty's (at this step).
 */
export function servedLookback(detector: AnomalyDetector, step = 0): number {
  return Math.max(
    detector.breakout?.lookbackSeconds ?? 0,
    detector.seasonal ? seasonalLookback(detector.seasonal, step) : 0
  );
}

/**
 * `scores` with 1 wherever a scored point (finite score) lies beyond [lo − t·(hi − lo), hi + t·(hi − lo)],
 * lo and hi the least and greatest of the up to lookbackSeconds/step values before it (none while the
 * past is flat). With less past than that (a young series) the rule uses what there is, as HTM does.
 */
export function markBreakouts(
  values: ArrayLike<number>,
  scores: Float64Array,
  step: number,
  rule: BreakoutRule
): Float64Array {
  const span = Math.max(1, Math.round(rule.lookbackSeconds / step));
  const { lo, hi } = trailingRange(values, span);
  const out = Float64Array.from(scores);
  for (let i = 0; i < values.length; i++) {
    if (scores[i] !== scores[i] || !(hi[i] > lo[i])) continue;
    const v = values[i];
    let margin = rule.tolerance * (hi[i] - lo[i]);
    if (!(v > hi[i] + margin || v < lo[i] - margin)) continue;
    // Only a candidate reads the noise, summed over its own window in a fixed order: the same sum however
    // much of the series was read before it, and a few points in a hundred, not every one.
    if (rule.noiseMargin) margin = Math.max(margin, rule.noiseMargin * stepNoise(values, i, span));
    if (v > hi[i] + margin || v < lo[i] - margin) out[i] = 1;
  }
  return out;
}

/** Standard deviation of the changes between consecutive points among the `span` points before i. */
export function stepNoise(values: ArrayLike<number>, i: number, span: number): number {
  const first = Math.max(0, i - span);
  const k = i - 1 - first;
  if (k < 2) return 0;
  let s1 = 0;
  let s2 = 0;
  for (let j = first + 1; j < i; j++) {
    const d = values[j] - values[j - 1];
    s1 += d;
    s2 += d * d;
  }
  return Math.sqrt(Math.max(0, s2 / k - (s1 / k) ** 2));
}

function validateBreakout(rule: BreakoutRule, where = 'breakout'): void {
  if (!(typeof rule.tolerance === 'number' && rule.tolerance >= 0 && Number.isFinite(rule.tolerance)))
    throw new RangeError(`${where}: "tolerance" must be a finite number ≥ 0`);
  if (!(
    typeof rule.lookbackSeconds === 'number' &&
    rule.lookbackSeconds > 0 &&
    Number.isFinite(rule.lookbackSeconds)
  ))
    throw new RangeError(`${where}: "lookbackSeconds" must be a finite number > 0`);
  if (
    rule.noiseMargin !== undefined &&
    !(typeof rule.noiseMargin === 'number' && rule.noiseMargin >= 0 && Number.isFinite(rule.noiseMargin))
  )
    throw new RangeError(`${where}: "noiseMargin" must be a finite number ≥ 0`);
}

/**
 * The raw score per point, before breakouts and onset damping: the forest's, mixed with the seasonal
 * novelty when the detector has one (finishRaw). NaN where the point lacks the past it needs, and before
 * index `from` (points read as past only). Each depends on the point and the points before it only, so a
 * kept raw score stays right (score-memo.ts). Scored now, in-process; many series at once go through
 * anomaly/index.ts ScoreBatch instead, whose rows are pointRows'.
 */
export function rawScores(
  detector: AnomalyDetector,
  values: ArrayLike<number>,
  step: number,
  residuals?: ArrayLike<number>,
  from = 0
): Float64Array {
  const out = new Float64Array(values.length).fill(NaN);
  const f = computeFeatures(values, step, detector.features, residuals, from);
  const scores = detector.forest.scoreMany(f.rows);
  for (let k = 0; k < f.rows.length; k++) out[f.index[k]] = scores[k];
  if (f.index.length) finishRaw(detector, values, out, step, f.index[0]);
  return out;
}

/**
 * Turns the forest's scores in `raw` from index `from` on into raw scores, in place: mixed with the
 * seasonal novelty (seasonal.ts), when the detector has one. `dist` carries the novelty's distances between
 * calls (score-memo.ts).
 */
export function finishRaw(
  detector: AnomalyDetector,
  values: ArrayLike<number>,
  raw: Float64Array,
  step: number,
  from: number,
  dist?: Float64Array
): void {
  if (detector.seasonal) mixSeasonalInto(values, raw, step, detector.seasonal, from, dist);
}

/**
 * The feature rows of the points of `values` from index `from` on that have the past they need, and their
 * indices: what rawScores puts through the forest. Only the `minimumPoints − 1` values before `from` are
 * read (a point's features depend on its window alone, to the bit: features.ts), so the new points of a
 * long stream cost what they are, not what the stream is.
 */
export function pointRows(
  detector: AnomalyDetector,
  values: ArrayLike<number>,
  step: number,
  residuals?: ArrayLike<number>,
  from = 0
): { rows: Float64Array[]; index: number[] } {
  const s0 = Math.max(0, from - minimumPoints(detector.features, step) + 1);
  if (s0 === 0) return computeFeatures(values, step, detector.features, residuals, from);
  if (from >= values.length) return { rows: [], index: [] };
  const tail = (a: ArrayLike<number>) =>
    a instanceof Float64Array ? a.subarray(s0) : Float64Array.from(a).subarray(s0);
  const f = computeFeatures(tail(values), step, detector.features, residuals && tail(residuals), from - s0);
  return { rows: f.rows, index: f.index.map((i) => i + s0) };
}

/** The detector's onset damping (dampRepeats over `onsetSeconds`) applied to raw scores. */
export function dampOnsets(detector: AnomalyDetector, raw: Float64Array, step: number): Float64Array {
  const span = onsetSpan(detector, step);
  return span > 0 ? dampRepeats(raw, span) : raw;
}

/** Points before a score that its onset damping compares it with, at this step (0: no damping). */
export function onsetSpan(detector: AnomalyDetector, step: number): number {
  return detector.onsetSeconds > 0 ? Math.max(1, Math.round(detector.onsetSeconds / step)) : 0;
}

/** Keeps a score only where it tops every (raw) score of the previous `span` points; damps the rest. */
export function dampRepeats(scores: Float64Array, span: number): Float64Array {
  const out = new Float64Array(scores.length);
  // Monotone deque of indices with decreasing scores: its head is the max of the trailing span.
  const dq = new Int32Array(scores.length);
  let head = 0;
  let tail = 0;
  for (let i = 0; i < scores.length; i++) {
    const x = scores[i];
    while (head < tail && dq[head] < i - span) head++;
    const prevMax = head < tail ? scores[dq[head]] : -Infinity;
    out[i] = x !== x || x > prevMax ? x : x * ONSET_DAMPING;
    if (x === x) {
      while (head < tail && scores[dq[tail - 1]] <= x) tail--;
      dq[tail++] = i;
    }
  }
  return out;
}

export function detectorToJSON(d: AnomalyDetector): AnomalyDetectorJson {
  return {
    features: d.features,
    threshold: d.threshold,
    thresholdPolicy: d.thresholdPolicy,
    onsetSeconds: d.onsetSeconds,
    ...(d.breakout ? { breakout: d.breakout } : {}),
    ...(d.maxGapSeconds > 0 ? { maxGapSeconds: d.maxGapSeconds } : {}),
    ...(d.seasonal ? { seasonal: d.seasonal } : {}),
    forest: d.forest.toJSON(),
  };
}

export function detectorFromJSON(json: unknown): AnomalyDetector {
  const j = json as Partial<AnomalyDetectorJson> | null;
  if (!j || typeof j !== 'object') throw new RangeError('detector JSON is not an object');
  if (!j.features || typeof j.features !== 'object')
    throw new RangeError('detector JSON: "features" missing');
  validateFeatureConfig(j.features);
  if (j.onsetSeconds !== undefined && !(typeof j.onsetSeconds === 'number' && j.onsetSeconds >= 0)) {
    throw new RangeError('detector JSON: "onsetSeconds" must be a number ≥ 0');
  }
  if (typeof j.threshold !== 'number' || !(j.threshold >= 0 && j.threshold <= 1)) {
    throw new RangeError('detector JSON: "threshold" must be a number in [0, 1]');
  }
  if (
    j.maxGapSeconds !== undefined &&
    !(typeof j.maxGapSeconds === 'number' && j.maxGapSeconds >= 0 && Number.isFinite(j.maxGapSeconds))
  ) {
    throw new RangeError('detector JSON: "maxGapSeconds" must be a finite number ≥ 0');
  }
  if (j.seasonal !== undefined) {
    if (!j.seasonal || typeof j.seasonal !== 'object')
      throw new RangeError('detector JSON: "seasonal" is not an object');
    validateSeasonal(j.seasonal, 'detector JSON: seasonal');
  }
  if (j.breakout !== undefined) {
    if (!j.breakout || typeof j.breakout !== 'object')
      throw new RangeError('detector JSON: "breakout" is not an object');
    validateBreakout(j.breakout, 'detector JSON: breakout');
  }
  const forest = IsolationForest.fromJSON(j.forest);
  if (forest.featureCount !== j.features.names.length) {
    throw new RangeError(
      `detector JSON: forest has ${forest.featureCount} features, config names ${j.features.names.length}`
    );
  }
  return {
    features: j.features,
    forest,
    threshold: j.threshold,
    thresholdPolicy: j.thresholdPolicy ?? { kind: 'fixed', threshold: j.threshold },
    onsetSeconds: j.onsetSeconds ?? 0,
    maxGapSeconds: j.maxGapSeconds ?? 0,
    ...(j.seasonal
      ? {
          seasonal: {
            forestWeight: j.seasonal.forestWeight,
            shingle: j.seasonal.shingle,
            days: j.seasonal.days,
            toleranceSeconds: j.seasonal.toleranceSeconds,
            normalizeSeconds: j.seasonal.normalizeSeconds,
            ...(j.seasonal.maxTolerancePoints !== undefined
              ? { maxTolerancePoints: j.seasonal.maxTolerancePoints }
              : {}),
          },
        }
      : {}),
    ...(j.breakout
      ? {
          breakout: {
            tolerance: j.breakout.tolerance,
            lookbackSeconds: j.breakout.lookbackSeconds,
            ...(j.breakout.noiseMargin ? { noiseMargin: j.breakout.noiseMargin } : {}),
          },
        }
      : {}),
  };
}
