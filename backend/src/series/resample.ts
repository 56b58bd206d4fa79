/**
 * Resampling per docs/definitions.md: mean per `step` bucket (buckets aligned to the Unix epoch), split into
 * contiguous segments where two present buckets are more than `maxGapSteps` steps apart, shorter holes
 * filled by linear interpolation. Non-finite values are dropped first, so NaN/±Inf become holes.
 */
import type { Point, Segment } from './types';

export interface ResampleOptions {
  /** Present buckets further apart than this many steps start a new segment. Default 2. */
  maxGapSteps?: number;
  /** Buckets are [origin + k·step, origin + (k+1)·step). Default 0 (aligned to the Unix epoch). */
  origin?: number;
}

export function resample(points: readonly Point[], step: number, opts: ResampleOptions = {}): Segment[] {
  const times = new Float64Array(points.length);
  const values = new Float64Array(points.length);
  for (let i = 0; i < points.length; i++) {
    times[i] = points[i][0];
    values[i] = points[i][1];
  }
  return resampleColumns(times, values, step, opts);
}

/** `resample` over parallel arrays of times and values (how the Prometheus source hands series over). */
export function resampleColumns(
  times: ArrayLike<number>,
  values: ArrayLike<number>,
  step: number,
  opts: ResampleOptions = {}
): Segment[] {
  if (!(step > 0)) throw new RangeError(`step must be > 0, got ${step}`);
  const maxGap = opts.maxGapSteps ?? 2;
  const origin = opts.origin ?? 0;

  const segments: Segment[] = [];
  let cur: Segment | null = null;
  let prevBucket = 0;
  let prevValue = 0;
  // Takes bucket means in increasing bucket order and builds the segments.
  const emit = (b: number, v: number) => {
    if (cur && b - prevBucket <= maxGap) {
      const gap = b - prevBucket;
      for (let k = 1; k < gap; k++) cur.values.push(prevValue + ((v - prevValue) * k) / gap);
      cur.values.push(v);
    } else {
      cur = { start: origin + b * step, step, values: [v] };
      segments.push(cur);
    }
    prevBucket = b;
    prevValue = v;
  };

  // Bucket means in one pass when the points come in time order (as Prometheus returns them): the
  // /api/forecast path resamples every series of a query, and a Map per series costs more than the rest.
  let bucket = NaN;
  let sum = 0;
  let n = 0;
  let lastT = -Infinity;
  let sorted = true;
  for (let i = 0; i < times.length; i++) {
    const t = times[i];
    const v = values[i];
    if (!Number.isFinite(v) || !Number.isFinite(t)) continue;
    if (t < lastT) {
      sorted = false;
      break;
    }
    lastT = t;
    const b = Math.floor((t - origin) / step);
    if (b === bucket) {
      sum += v;
      n += 1;
    } else {
      if (n > 0) emit(bucket, sum / n);
      bucket = b;
      sum = v;
      n = 1;
    }
  }
  if (sorted) {
    if (n > 0) emit(bucket, sum / n);
    return segments;
  }

  // Points in any order.
  segments.length = 0;
  cur = null;
  const sums = new Map<number, { sum: number; n: number }>();
  for (let i = 0; i < times.length; i++) {
    const t = times[i];
    const v = values[i];
    if (!Number.isFinite(v) || !Number.isFinite(t)) continue;
    const b = Math.floor((t - origin) / step);
    const acc = sums.get(b);
    if (acc) {
      acc.sum += v;
      acc.n += 1;
    } else sums.set(b, { sum: v, n: 1 });
  }
  for (const b of [...sums.keys()].sort((x, y) => x - y)) {
    const acc = sums.get(b)!;
    emit(b, acc.sum / acc.n);
  }
  return segments;
}

/** Times of a segment's values. */
export function segmentTimes(seg: Segment): number[] {
  return seg.values.map((_, i) => seg.start + i * seg.step);
}

/** The segment as points. */
export function segmentPoints(seg: Segment): Point[] {
  return seg.values.map((v, i) => [seg.start + i * seg.step, v]);
}

/** Drop non-finite samples; returns the kept points and how many were dropped. */
export function finitePoints(points: readonly Point[]): { points: Point[]; dropped: number } {
  const kept = points.filter(([t, v]) => Number.isFinite(t) && Number.isFinite(v));
  return { points: kept, dropped: points.length - kept.length };
}
