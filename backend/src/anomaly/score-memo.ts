/**
 * The forest's scores of the last answer's points, so that a refresh after a new step scores only the
 * new points.
 *
 * `/api/anomalies` scores every point of the range shown (and the onset damping's 12 h before it): for
 * 1000 series, ~220 points each through 200 trees, ~2 s on two cores. Ten minutes later the range has moved one step
 * and all but one of those points are the same. A point's raw score depends on its feature window only
 * (features.ts sums every window on its own, so not even the rounding depends on where the read starts),
 * so the raw scores of points whose values are unchanged are the ones computing them again would give,
 * bit for bit, and only the points after them go through the forest. The onset damping is then applied to
 * the whole segment, as always.
 *
 * Kept per request key (the query and the step) and series: each segment's start, values and raw scores.
 * A segment is reused when it starts at or after a kept one of the same series and its values up to the
 * kept one's end are the kept values, bit for bit. Anything else is scored from scratch.
 */
import { ByteLru } from '../lru';
import { sameBits, sameSample } from '../series/columns';
import { labelsKey } from '../series/labels';
import type { Labels, Segment } from '../series/types';
import { finishRaw, pointRows, type AnomalyDetector } from './detector';
import { minimumPoints } from './features';
import { seasonalDistanceReach, seasonalNoveltyReach } from './seasonal';

interface KeptSegment {
  start: number;
  step: number;
  values: Float64Array;
  raw: Float64Array;
  /** The seasonal novelty's distances (seasonal.ts), when the detector has one. */
  dist?: Float64Array;
}

interface Entry {
  detector: AnomalyDetector;
  /** By series (labelsKey): its segments, in time order. */
  series: Map<string, KeptSegment[]>;
  bytes: number;
}

export interface ScoreMemoStats {
  /** Points whose raw score was kept from an earlier answer, and points scored. */
  reused: number;
  scored: number;
}

/**
 * One answer's use of the memo, in the order ScoreBatch (index.ts) calls it: `plan` what is known of each
 * segment's raw scores, the forest scores the rest, `keep` the finished raw scores, and `done` when the
 * answer is complete.
 */
export interface ScoreSession {
  readonly stats: ScoreMemoStats;
  /** See reusePlan; `from` is the first index whose raw score is wanted. */
  plan(labels: Labels, seg: Segment, from: number): RawPlan;
  /**
   * A segment's complete raw scores (and the novelty's distances), kept for the next answer (the arrays
   * are the memo's from now on).
   */
  keep(labels: Labels, seg: Segment, raw: Float64Array, dist?: Float64Array): void;
  /** Replaces what the last answer under this key kept with what `keep` was given (unless `keep: false`). */
  done(): void;
}

export class ScoreMemo {
  private readonly kept: ByteLru<Entry>;

  constructor(maxBytes: number) {
    this.kept = new ByteLru(maxBytes);
  }

  get size(): { bytes: number; entries: number } {
    return this.kept.size;
  }

  /**
   * A session for one answer under `key`: its plans reuse what the last answer under `key` kept (unless
   * `reuse: false`), and `done()` keeps this answer's instead (unless `keep: false`).
   */
  session(
    key: string,
    detector: AnomalyDetector,
    opts: { reuse?: boolean; keep?: boolean } = {}
  ): ScoreSession {
    const before = opts.reuse === false ? undefined : this.kept.peek(key);
    const kept = before && before.detector === detector ? before.series : undefined;
    const now = new Map<string, KeptSegment[]>();
    let bytes = 300 + 2 * key.length;
    const stats: ScoreMemoStats = { reused: 0, scored: 0 };
    return {
      stats,
      plan: (labels, seg, from) => {
        const values = Float64Array.from(seg.values);
        return reusePlan(detector, kept?.get(labelsKey(labels)), seg.start, seg.step, values, stats, from);
      },
      keep: (labels, seg, raw, dist) => {
        const k = labelsKey(labels);
        const values = Float64Array.from(seg.values);
        const list = now.get(k);
        const withDist = detector.seasonal ? dist : undefined;
        const segment = {
          start: seg.start,
          step: seg.step,
          values,
          raw,
          ...(withDist ? { dist: withDist } : {}),
        };
        if (list) list.push(segment);
        else now.set(k, [segment]);
        bytes += (withDist ? 24 : 16) * values.length + 2 * k.length + 100;
      },
      done: (): void => {
        if (opts.keep !== false) this.kept.set(key, { detector, series: now, bytes });
      },
    };
  }
}

/**
 * What is known of a segment's raw scores before the forest runs: `raw` holds those of a kept segment where
 * this one repeats it (NaN elsewhere), and the forest must give the points from index `rest` on (none when
 * `rest` is the segment's length): pointRows(detector, values, step, undefined, rest).
 */
export interface RawPlan {
  raw: Float64Array;
  rest: number;
  /** The kept segment's seasonal distances where this one repeats it (NaN elsewhere), when it kept any. */
  dist?: Float64Array;
}

/**
 * The plan for the raw scores of `values` (a segment from `start` at `step`) from index `from` on: those of
 * a kept segment where this one repeats it, the forest's for the points after it.
 */
export function reusePlan(
  detector: AnomalyDetector,
  kept: readonly KeptSegment[] | undefined,
  start: number,
  step: number,
  values: Float64Array,
  stats: ScoreMemoStats = { reused: 0, scored: 0 },
  from = 0
): RawPlan {
  const n = values.length;
  const need = minimumPoints(detector.features, step);
  // The first point with a score: enough past, and asked for.
  const first = Math.max(need - 1, from);
  const raw = new Float64Array(n).fill(NaN);
  const match = kept && n >= need ? repeated(kept, start, step, values) : undefined;
  // Points before `known` (new indices) repeat the kept segment. Its raw scores start where it was asked
  // to start: if that is after `first` (the range moved back), they are of no use.
  const known = match ? match.known : 0;
  const keptRaw = match?.segment.raw;
  // A raw score with less past in its segment than it reads depends on where the segment starts: the
  // seasonal novelty reads further back than the features (seasonal.ts). None is kept before that.
  const stable = Math.max(need - 1, detector.seasonal ? seasonalNoveltyReach(detector.seasonal, step) : 0);
  if (
    !match ||
    (first < known && first < stable) ||
    (first < known && keptRaw![match.offset + first] !== keptRaw![match.offset + first])
  ) {
    stats.scored += Math.max(0, n - first);
    return { raw, rest: first };
  }
  if (first < known) {
    raw.set(keptRaw!.subarray(match.offset + first, match.offset + known), first);
    stats.reused += known - first;
  }
  // The points after them (new, or read again with another value), with the past their features read.
  const rest = Math.max(first, known);
  stats.scored += Math.max(0, n - rest);
  const dist = keptDistances(detector, match.segment, match.offset, known, step, n);
  return { raw, rest, ...(dist ? { dist } : {}) };
}

/**
 * The kept segment's seasonal distances for this one's first `known` points, NaN elsewhere. Only from the
 * index on where a distance reads this segment's own past in full (seasonalDistanceReach): before it, the
 * kept one may have read values before this segment's start.
 */
function keptDistances(
  detector: AnomalyDetector,
  segment: KeptSegment,
  offset: number,
  known: number,
  step: number,
  n: number
): Float64Array | undefined {
  if (!detector.seasonal || !segment.dist) return undefined;
  const dist = new Float64Array(n).fill(NaN);
  const from = Math.min(known, seasonalDistanceReach(detector.seasonal, step));
  if (from < known) dist.set(segment.dist.subarray(offset + from, offset + known), from);
  return dist;
}

/** reusePlan's raw scores completed now, in-process. */
export function reuseOrScore(
  detector: AnomalyDetector,
  kept: readonly KeptSegment[] | undefined,
  start: number,
  step: number,
  values: Float64Array,
  stats: ScoreMemoStats = { reused: 0, scored: 0 },
  from = 0
): Float64Array {
  const { raw, rest, dist } = reusePlan(detector, kept, start, step, values, stats, from);
  if (rest >= values.length) return raw;
  const f = pointRows(detector, values, step, undefined, rest);
  const scores = detector.forest.scoreMany(f.rows);
  for (let k = 0; k < f.rows.length; k++) raw[f.index[k]] = scores[k];
  finishRaw(detector, values, raw, step, rest, dist);
  return raw;
}

/**
 * The kept segment this one continues: same step, it starts at or after the kept start on the same grid.
 * `offset`: index in the kept segment of this one's first point; `known`: how many of this one's first
 * values equal the kept ones from there, bit for bit. Usually all of the overlap; fewer when the last
 * minutes were read again with other values (a late scrape), and the scores after them are computed again.
 */
function repeated(
  kept: readonly KeptSegment[],
  start: number,
  step: number,
  values: Float64Array
): { segment: KeptSegment; offset: number; known: number } | undefined {
  let best: { segment: KeptSegment; offset: number; known: number } | undefined;
  for (const segment of kept) {
    if (segment.step !== step) continue;
    const offset = (start - segment.start) / step;
    if (!Number.isInteger(offset) || offset < 0 || offset >= segment.values.length) continue;
    const overlap = Math.min(segment.values.length - offset, values.length);
    // memcmp for the whole overlap (the usual case), then the first value that differs.
    let known = overlap;
    if (!sameBits(values.subarray(0, overlap), segment.values.subarray(offset, offset + overlap))) {
      known = 0;
      while (known < overlap && sameSample(values[known], segment.values[offset + known])) known++;
    }
    if (!best || known > best.known) best = { segment, offset, known };
  }
  return best;
}
