/**
 * Gap bridging before anomaly scoring. A source's resampling (series/resample.ts) starts a new segment at
 * every hole longer than two steps, and a segment shorter than the features' window is never scored: a
 * series with a few missed scrapes an hour, or an hour-long outage, would go unwatched for a day after each.
 * The detector instead reads across holes of up to `maxGapSeconds` with the values linearly interpolated,
 * as the resampling already does for short holes; it is a setting of the detector (its JSON, its metadata),
 * chosen like every other by the NAB corpus's held-out score (docs/anomaly.md).
 *
 * Bridging only joins segments, in time order; it never moves a present value. A bridged hole's points are
 * read as the past of the points after it, but get no score of their own: where the series has no data,
 * the answer has no score (`holes`). Each joined point depends only on the segments at or before it, so the
 * past-only guarantee holds.
 */
import type { Segment } from '../series/types';

/** A segment with the index ranges [from, to) of the points bridging filled in. */
export interface BridgedSegment extends Segment {
  holes?: Array<[from: number, to: number]>;
}

/** Whether index i of a segment is a point bridging filled in (it gets no score). */
export function isFilled(seg: Segment, i: number): boolean {
  const holes = (seg as BridgedSegment).holes;
  if (!holes) return false;
  for (const [from, to] of holes) if (i >= from && i < to) return true;
  return false;
}

/**
 * Joins consecutive segments of one step whose hole (first time of the next − last time of the previous)
 * is at most `maxGapSeconds`, filling it by linear interpolation. Segments of another step or off the
 * first one's grid are kept apart. 0 (or less than two steps) returns the segments unchanged.
 */
export function bridgeGaps(segments: readonly Segment[], maxGapSeconds: number): BridgedSegment[] {
  if (!(maxGapSeconds > 0) || segments.length < 2) return segments.slice();
  const out: BridgedSegment[] = [];
  let cur: BridgedSegment | undefined;
  for (const seg of segments) {
    if (seg.values.length === 0) continue;
    if (cur && canJoin(cur, seg, maxGapSeconds)) {
      const last = cur.values[cur.values.length - 1];
      const lastT = cur.start + (cur.values.length - 1) * cur.step;
      const holes = Math.round((seg.start - lastT) / cur.step);
      const next = seg.values[0];
      if (holes > 1) (cur.holes ??= []).push([cur.values.length, cur.values.length + holes - 1]);
      for (let k = 1; k < holes; k++) cur.values.push(last + ((next - last) * k) / holes);
      for (const v of seg.values) cur.values.push(v);
    } else {
      cur = { start: seg.start, step: seg.step, values: seg.values.slice() };
      out.push(cur);
    }
  }
  return out;
}

function canJoin(prev: Segment, next: Segment, maxGapSeconds: number): boolean {
  if (prev.step !== next.step) return false;
  const lastT = prev.start + (prev.values.length - 1) * prev.step;
  const gap = next.start - lastT;
  if (!(gap > 0) || gap > maxGapSeconds) return false;
  const holes = gap / prev.step;
  return Math.abs(holes - Math.round(holes)) < 1e-9;
}
