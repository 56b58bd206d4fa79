/**
 * The anomaly detector as the service uses it: load the shipped model from `models/anomaly/`
 * (forest.json + metadata.json) and score resampled segments. The only file I/O of anomaly/ lives here.
 */
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { PrescalerError } from '../errors';
import type { Point, Segment } from '../series/types';
import type { Labels } from '../series/types';
import {
  servedLookback,
  detectorFromJSON,
  onsetSpan,
  detectorToJSON,
  finishRaw,
  pointRows,
  servedScores,
  type AnomalyDetector,
  type BreakoutRule,
  type ThresholdPolicy,
} from './detector';
import { minimumPoints, type FeatureConfig } from './features';
import { bridgeGaps, isFilled } from './gaps';
import type { SeasonalNovelty } from './seasonal';
import { ForestBatch, type ScoredWhere } from './forest-workers';
import type { RawPlan, ScoreSession } from './score-memo';

export const FOREST_FILE = 'forest.json';
export const METADATA_FILE = 'metadata.json';

export interface AnomalyMetadata {
  id: string;
  version: string;
  createdAt: string;
  algorithm: string;
  /** How the forest was fitted and on what; the NAB series it is scored on are not among them. */
  training: {
    method: string;
    step: string;
    datasets: Array<{ name: string; file: string; sha256: string; series: number; seriesUsed: number }>;
    featureRows: number;
    /** Where the `residual` feature's residuals came from, when the forest uses it. */
    residuals?: string;
  };
  features: FeatureConfig;
  forest: { nTrees: number; sampleSize: number; heightLimit: number; seed: number };
  threshold: { value: number; policy: ThresholdPolicy };
  onsetSeconds: number;
  /** The breakout rule (detector.ts BreakoutRule), when the detector applies one. */
  breakout?: BreakoutRule;
  /** Holes bridged before scoring, seconds (detector.ts maxGapSeconds); absent in older models: 0. */
  maxGapSeconds?: number;
  /** The seasonal novelty's settings (seasonal.ts), when the detector mixes it in. */
  seasonal?: SeasonalNovelty;
  /** The NAB corpus calibration the threshold came from, with its figures (train-anomaly --nab-corpus). */
  corpus?: unknown;
  /** The same fitting and calibration with other forest seeds (train-anomaly --seed-spread). */
  seedSpread?: unknown;
  /** Pages per series-week at the threshold on the cluster traces, each scored by a forest fitted without it. */
  alertRate?: unknown;
  /** SHA-256 of forest.json, checked on load. */
  forestSha256: string;
  evaluation?: unknown;
}

export interface AnomalyModel {
  id: string;
  version: string;
  detector: AnomalyDetector;
  metadata: AnomalyMetadata;
}

function sha256(buf: Buffer | string): string {
  return crypto.createHash('sha256').update(buf).digest('hex');
}

function readJson(file: string): { json: unknown; bytes: Buffer } {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new Error(
      `${file}: ${code === 'ENOENT' ? 'file not found' : `cannot read (${code ?? String(e)})`}`
    );
  }
  try {
    return { json: JSON.parse(bytes.toString('utf8')), bytes };
  } catch (e) {
    throw new Error(`${file}: not valid JSON (${(e as Error).message})`);
  }
}

/** Reads forest.json + metadata.json; any missing or corrupt file throws an Error naming it and the fault. */
export function loadAnomalyModel(dir: string): AnomalyModel {
  const metaPath = path.join(dir, METADATA_FILE);
  const forestPath = path.join(dir, FOREST_FILE);
  const { json: meta } = readJson(metaPath);
  const m = meta as Partial<AnomalyMetadata> | null;
  if (!m || typeof m !== 'object') throw new Error(`${metaPath}: not a JSON object`);
  for (const k of ['id', 'version', 'forestSha256'] as const) {
    if (typeof m[k] !== 'string' || m[k] === '')
      throw new Error(`${metaPath}: "${k}" missing or not a string`);
  }
  const { json: forest, bytes } = readJson(forestPath);
  const digest = sha256(bytes);
  if (digest !== m.forestSha256) {
    throw new Error(
      `${forestPath}: SHA-256 ${digest} does not match metadata.json's forestSha256 ${m.forestSha256}`
    );
  }
  let detector: AnomalyDetector;
  try {
    detector = detectorFromJSON(forest);
  } catch (e) {
    throw new Error(`${forestPath}: ${(e as Error).message}`);
  }
  return { id: m.id!, version: m.version!, detector, metadata: m as AnomalyMetadata };
}

/**
 * loadAnomalyModel for the server, which scores a series from its values alone: a detector fitted on
 * forecast residuals (train:anomaly --features …,residual) is for evaluation only and is refused here.
 */
export function loadServedAnomalyModel(dir: string): AnomalyModel {
  const model = loadAnomalyModel(dir);
  if (model.detector.features.names.includes('residual')) {
    throw new Error(
      `${path.join(dir, FOREST_FILE)}: fitted with the "residual" feature, which needs forecast residuals ` +
        'the server does not compute; serve a detector fitted without it (npm run train:anomaly)'
    );
  }
  return model;
}

/** Writes forest.json and metadata.json (whose forestSha256 is filled in here). */
export function saveAnomalyModel(
  dir: string,
  detector: AnomalyDetector,
  metadata: Omit<AnomalyMetadata, 'forestSha256'>
): AnomalyMetadata {
  fs.mkdirSync(dir, { recursive: true });
  const forestText = JSON.stringify(detectorToJSON(detector));
  const full: AnomalyMetadata = { ...metadata, forestSha256: sha256(forestText) };
  // Write to temporary names first so a crash never leaves a forest and metadata that disagree.
  const tmpForest = path.join(dir, `.${FOREST_FILE}.tmp`);
  const tmpMeta = path.join(dir, `.${METADATA_FILE}.tmp`);
  fs.writeFileSync(tmpForest, forestText);
  fs.writeFileSync(tmpMeta, JSON.stringify(full, null, 2) + '\n');
  fs.renameSync(tmpForest, path.join(dir, FOREST_FILE));
  fs.renameSync(tmpMeta, path.join(dir, METADATA_FILE));
  return full;
}

/** Seconds of history before a point that its score needs, at this step. */
export function historyNeeded(model: AnomalyModel, step: number): number {
  return (minimumPoints(model.detector.features, step) - 1) * step;
}

/**
 * Seconds of history to read before the first point to score, at this step, so that its score is the one
 * a long stream gives it: the longer of the features' and the breakout rule's look-back, plus the onset
 * damping's (which compares a score with those of the previous onsetSeconds). /api/anomalies and the
 * evaluation loop both read this much.
 */
export function historyToRead(model: AnomalyModel, step: number): number {
  const past = Math.max(historyNeeded(model, step), servedLookback(model.detector, step));
  // A read that starts inside a hole bridging would fill must reach back to the point before the hole, or
  // the range's first points would see another past than a long stream gives them.
  return Math.ceil((past + model.detector.onsetSeconds + model.detector.maxGapSeconds) / step) * step;
}

export interface ScoreResult {
  /** [t seconds, score in [0, 1]] for every point with enough past for its features. */
  scores: Point[];
  /** Points whose score reached the threshold: [t seconds, value, score]. */
  anomalies: Array<[t: number, v: number, s: number]>;
  threshold: number;
}

export interface ScoreOptions {
  /** actual − forecast per value of each segment (NaN where there is none), for a `residual` detector. */
  residuals?: ArrayLike<number>[];
  /**
   * Only points at or after this time (seconds) are scored: those before are read as their past (features,
   * breakout range) and, for the onset damping's span, go through the forest.
   */
  from?: number;
}

/**
 * Scores the segments of one series (from resample(): evenly spaced, finite), now and in-process: the
 * synchronous way to score. `residuals[k][i]` is actual − forecast for value i of segment k (NaN where
 * there is none); it is used only when the model was fitted with the `residual` feature. Throws
 * bad_request for a non-finite value or missing residuals, insufficient_history when no segment is long
 * enough. Gives what a ScoreBatch of this one series gives, bit for bit.
 */
export function scoreSegments(
  model: AnomalyModel,
  segments: Segment[],
  opts: ScoreOptions = {}
): ScoreResult {
  // Residuals are given per segment as the caller cut them, so a residual detector scores them unbridged.
  if (!opts.residuals) segments = bridgeGaps(segments, model.detector.maxGapSeconds);
  const planned = planSeries(model, segments, opts);
  planned.forEach((p, k) => {
    if (!p) return;
    const scores = model.detector.forest.scoreMany(p.rows.rows);
    for (let r = 0; r < scores.length; r++) p.raw[p.rows.index[r]] = scores[r];
    finishRaw(model.detector, segments[k].values, p.raw, segments[k].step, p.rest, p.dist);
  });
  return served(model, segments, planned, opts.from);
}

/** Longest stretch ScoreBatch.score works on this thread without yielding, ms. */
const YIELD_EVERY_MS = 8;

/** A series added to a ScoreBatch; `ScoreBatch.served` gives its scores once the batch is scored. */
export interface BatchedSeries {
  readonly labels?: Labels;
}

interface Added extends BatchedSeries {
  segments: Segment[];
  planned: Array<PlannedSegment | undefined>;
  from?: number;
  /** Index of each planned segment's first row in the batch's scores. */
  at: number[];
}

/**
 * Many series scored together, their feature rows through the forest in one batch (on worker threads when
 * they are many: forest-workers.ts). The asynchronous way to score, in explicit phases:
 *
 *     const batch = new ScoreBatch(model, { memo });  // memo: a ScoreMemo session (optional)
 *     const a = batch.add(segments, { from, labels }); // plan: checks, reuse, feature rows (sync, may throw)
 *     await batch.score();                             // the forest walks every row added
 *     batch.served(a);                                 // a's ScoreResult, as scoreSegments gives it
 *
 * Nothing is handed out before it is scored: `served` before `score` has finished throws.
 */
export class ScoreBatch {
  private readonly rows = new ForestBatch();
  private readonly added: Added[] = [];
  private state: 'adding' | 'scoring' | 'scored' = 'adding';

  constructor(
    private readonly model: AnomalyModel,
    private readonly opts: { memo?: ScoreSession; threads?: number } = {}
  ) {}

  /**
   * Plans a series: checks its values (bad_request, as scoreSegments), takes what the memo kept of its raw
   * scores (by `labels`; not for a `residual` detector), and adds the feature rows of the rest to the batch.
   */
  add(segments: Segment[], opts: ScoreOptions & { labels?: Labels } = {}): BatchedSeries {
    if (this.state !== 'adding') throw new Error('ScoreBatch.add after score()');
    if (!opts.residuals) segments = bridgeGaps(segments, this.model.detector.maxGapSeconds);
    const memo = opts.labels && this.opts.memo;
    const planned = planSeries(
      this.model,
      segments,
      opts,
      memo ? (seg, first) => memo.plan(opts.labels!, seg, first) : undefined
    );
    const at = planned.map((p) => (p ? this.rows.add(p.rows.rows) : -1));
    const entry: Added = { labels: opts.labels, segments, planned, from: opts.from, at };
    this.added.push(entry);
    return entry;
  }

  /** Rows waiting for the forest. */
  get pendingRows(): number {
    return this.rows.rows;
  }

  /**
   * Puts every row added through the forest and completes each series' raw scores (and hands them to the
   * memo). Says where they were scored, or undefined when there was nothing to score.
   */
  async score(): Promise<ScoredWhere | undefined> {
    if (this.state !== 'adding') throw new Error('ScoreBatch.score called twice');
    this.state = 'scoring';
    const { scores, where } = await this.rows.score(this.model.detector.forest, {
      threads: this.opts.threads,
    });
    const memo = this.opts.memo;
    // Finishing the raw scores (the seasonal novelty) runs here, on this thread: yield to the event loop
    // every few milliseconds so that a thousand series do not hold it for seconds.
    let since = performance.now();
    for (const a of this.added) {
      for (const [k, p] of a.planned.entries()) {
        if (!p) continue;
        for (let r = 0; r < p.rows.index.length; r++) p.raw[p.rows.index[r]] = scores[a.at[k] + r];
        const seg = a.segments[k];
        finishRaw(this.model.detector, seg.values, p.raw, seg.step, p.rest, p.dist);
        if (memo && a.labels && p.memo) memo.keep(a.labels, seg, p.raw, p.dist);
        if (performance.now() - since > YIELD_EVERY_MS) {
          await new Promise<void>((resolve) => setImmediate(resolve));
          since = performance.now();
        }
      }
    }
    this.state = 'scored';
    return where;
  }

  /** The scores of a series added to this batch (throws as scoreSegments does); only after score(). */
  served(series: BatchedSeries): ScoreResult {
    if (this.state !== 'scored') throw new Error('ScoreBatch.served before score() has finished');
    const a = series as Added;
    if (!this.added.includes(a)) throw new Error('ScoreBatch.served: not a series of this batch');
    return served(this.model, a.segments, a.planned, a.from);
  }
}

/** A segment's raw scores as planned: known ones in `raw` (NaN elsewhere), and the rows the forest owes it. */
interface PlannedSegment {
  raw: Float64Array;
  /** The first index the forest scores (raw scores before it are kept or not wanted). */
  rest: number;
  /** The seasonal novelty's distances known so far (NaN: not yet), kept with the raw scores. */
  dist: Float64Array;
  rows: { rows: Float64Array[]; index: number[] };
  /** Planned with the memo: its finished raw scores are kept. */
  memo: boolean;
}

/**
 * Each segment's plan (undefined for one too short to score). Throws for a non-finite value or missing
 * residuals.
 */
function planSeries(
  model: AnomalyModel,
  segments: Segment[],
  opts: ScoreOptions,
  reuse?: (segment: Segment, first: number) => RawPlan
): Array<PlannedSegment | undefined> {
  const { detector } = model;
  const wantResidual = detector.features.names.includes('residual');
  return segments.map((seg, k) => {
    if (seg.values.length < minimumPoints(detector.features, seg.step)) return undefined;
    for (let i = 0; i < seg.values.length; i++) {
      if (!Number.isFinite(seg.values[i])) {
        throw new PrescalerError(
          'bad_request',
          `value at ${seg.start + i * seg.step} is not a finite number`
        );
      }
    }
    const residuals = wantResidual ? opts.residuals?.[k] : undefined;
    if (wantResidual && (!residuals || residuals.length !== seg.values.length)) {
      throw new PrescalerError(
        'bad_request',
        'this anomaly model needs forecast residuals for every segment'
      );
    }
    // The first point whose raw score is wanted: the onset damping compares a score with those before it.
    const first =
      opts.from === undefined
        ? 0
        : Math.max(0, Math.ceil((opts.from - seg.start) / seg.step) - onsetSpan(detector, seg.step));
    const plan: RawPlan =
      reuse && !wantResidual
        ? reuse(seg, first)
        : {
            raw: new Float64Array(seg.values.length).fill(NaN),
            rest: Math.max(first, minimumPoints(detector.features, seg.step) - 1),
          };
    return {
      raw: plan.raw,
      rest: plan.rest,
      dist: plan.dist ?? new Float64Array(seg.values.length).fill(NaN),
      rows: pointRows(detector, seg.values, seg.step, residuals, plan.rest),
      memo: Boolean(reuse) && !wantResidual,
    };
  });
}

/**
 * Breakouts, onset damping (servedScores) and the threshold over each segment's finished raw scores.
 * Throws insufficient_history when no segment could be scored.
 */
function served(
  model: AnomalyModel,
  segments: Segment[],
  planned: ReadonlyArray<PlannedSegment | undefined>,
  from?: number
): ScoreResult {
  const { detector } = model;
  const scores: Point[] = [];
  const anomalies: Array<[number, number, number]> = [];
  let scored = 0;
  segments.forEach((seg, k) => {
    const raw = planned[k]?.raw;
    if (!raw) return;
    const s = servedScores(detector, seg.values, raw, seg.step);
    scored++;
    for (let i = 0; i < s.length; i++) {
      const x = s[i];
      if (x !== x) continue;
      const t = seg.start + i * seg.step;
      if (from !== undefined && t < from) continue;
      if (isFilled(seg, i)) continue;
      const score = Math.min(1, Math.max(0, x));
      scores.push([t, score]);
      if (score >= detector.threshold) anomalies.push([t, seg.values[i], score]);
    }
  });
  if (scored === 0) {
    const step = segments[0]?.step;
    const needed = Math.max(0, ...segments.map((seg) => minimumPoints(detector.features, seg.step)));
    const longest = Math.max(0, ...segments.map((seg) => seg.values.length));
    throw new PrescalerError(
      'insufficient_history',
      segments.length === 0
        ? 'no data points to score'
        : `anomaly scores need ${needed} evenly spaced points in one segment` +
            (step ? ` (${((needed - 1) * step) / 3600} h of history at step ${step} s)` : '') +
            `; the longest segment has ${longest}`
    );
  }
  return { scores, anomalies, threshold: detector.threshold };
}

export type { AnomalyDetector } from './detector';
