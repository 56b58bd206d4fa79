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
import { rawScores, rawScoresInto, type AnomalyDetector, type RowSink } from './detector';
import { minimumPoints } from './features';

interface KeptSegment {
  start: number;
  step: number;
  values: Float64Array;
  raw: Float64Array;
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

export class ScoreMemo {
  private readonly kept: ByteLru<Entry>;

  constructor(maxBytes: number) {
    this.kept = new ByteLru(maxBytes);
  }

  get size(): { bytes: number; entries: number } {
    return this.kept.size;
  }

  /**
   * A scorer for one answer under `key`: `raw(labels, segment)` gives a segment's raw scores, reusing what
   * the last answer under `key` kept (unless `reuse: false`); `done()` keeps this answer's instead (unless
   * `keep: false`). The arrays `raw` returns are the kept ones: callers read them and never write.
   */
  session(key: string, detector: AnomalyDetector, opts: { reuse?: boolean; keep?: boolean } = {}) {
    const before = opts.reuse === false ? undefined : this.kept.peek(key);
    const kept = before && before.detector === detector ? before.series : undefined;
    const now = new Map<string, KeptSegment[]>();
    let bytes = 300 + 2 * key.length;
    const stats: ScoreMemoStats = { reused: 0, scored: 0 };
    return {
      stats,
      raw: (labels: Labels, seg: Segment, from = 0, sink?: RowSink): Float64Array => {
        const k = labelsKey(labels);
        const values = Float64Array.from(seg.values);
        const raw = reuseOrScore(detector, kept?.get(k), seg.start, seg.step, values, stats, from, sink);
        const list = now.get(k);
        const segment = { start: seg.start, step: seg.step, values, raw };
        if (list) list.push(segment);
        else now.set(k, [segment]);
        bytes += 16 * values.length + 2 * k.length + 100;
        return raw;
      },
      done: (): void => {
        if (opts.keep !== false) this.kept.set(key, { detector, series: now, bytes });
      },
    };
  }
}

/**
 * Raw scores of `values` (a segment from `start` at `step`) from index `from` on: those of a kept segment
 * where this one repeats it, the forest's for the points after it.
 */
export function reuseOrScore(
  detector: AnomalyDetector,
  kept: readonly KeptSegment[] | undefined,
  start: number,
  step: number,
  values: Float64Array,
  stats: ScoreMemoStats = { reused: 0, scored: 0 },
  from = 0,
  sink?: RowSink
): Float64Array {
  const n = values.length;
  const need = minimumPoints(detector.features, step);
  // The first point with a score: enough past, and asked for.
  const first = Math.max(need - 1, from);
  const match = kept && n >= need ? repeated(kept, start, step, values) : undefined;
  // Points before `known` (new indices) repeat the kept segment. Its raw scores start where it was asked
  // to start: if that is after `first` (the range moved back), they are of no use.
  const known = match ? match.known : 0;
  const keptRaw = match?.segment.raw;
  if (!match || (first < known && keptRaw![match.offset + first] !== keptRaw![match.offset + first])) {
    stats.scored += Math.max(0, n - first);
    return rawScores(detector, values, step, undefined, from, sink);
  }
  const out = new Float64Array(n).fill(NaN);
  if (first < known) {
    out.set(keptRaw!.subarray(match.offset + first, match.offset + known), first);
    stats.reused += known - first;
  }
  const rest = Math.max(first, known);
  if (rest < n) {
    // The points after them (new, or read again with another value), with the past their features read.
    rawScoresInto(out, rest - need + 1, detector, values.subarray(rest - need + 1), step, { sink });
    stats.scored += n - rest;
  }
  return out;
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
